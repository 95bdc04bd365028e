"""Validation through S3RangeReader against a moto S3 server over real HTTP: the reads stay small."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faceswap.media import (
    MediaInvalid,
    MediaLimits,
    S3RangeReader,
    billable_units,
    dst_duration,
    validate_image,
    validate_video,
)
from tests import media as mf
from tests.media import Media

PADDING = 20 * 1024 * 1024
CORE_SRC = Path(__file__).resolve().parents[3] / "functions" / "core" / "src"


def upload(s3: Any, bucket: str, key: str, data: bytes) -> int:
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return len(data)


def test_reads_exact_ranges(s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * 40
    upload(s3, bucket, "ranges.bin", data)
    reader = S3RangeReader(s3, bucket, "ranges.bin")
    assert reader.size == len(data) and reader.requests == 1  # the HEAD
    assert reader.read(100, 10) == data[100:110]
    assert reader.read(len(data) - 5, 100) == data[-5:]  # clamped at the end
    assert reader.read(len(data), 10) == b""  # no request: S3 would answer 416
    assert (reader.requests, reader.bytes_fetched) == (3, 15)


@pytest.mark.parametrize("layout", ["moov_at_end", "faststart"])
def test_validates_a_20_mb_video_with_a_few_small_reads(s3: Any, bucket: str, media: Media,
                                                        layout: str) -> None:
    if layout == "moov_at_end":
        data = mf.insert_free_box_before_moov(media.encoded_bytes("aac.mp4"), PADDING)
    else:  # faststart: the padding goes after the mdat, where no chunk offset points
        data = media.encoded_bytes("faststart.mp4") + mf.top_level_free_box(PADDING)
    size = upload(s3, bucket, f"big-{layout}.mp4", data)
    assert size > PADDING

    reader = S3RangeReader(s3, bucket, f"big-{layout}.mp4", size=size)  # size from the S3 event: no HEAD
    info = validate_video(reader)

    assert info.video_codec == "h264" and info.size_bytes == size
    assert reader.bytes_fetched < 1_000_000
    assert reader.requests <= 4
    assert (dst_duration(info.duration_seconds), billable_units(info.duration_seconds)) == (1, 1)


def test_rejects_over_s3_with_the_vendor_limit_in_the_message(s3: Any, bucket: str, media: Media) -> None:
    size = upload(s3, bucket, "long.mp4", media.encoded_bytes("31s.mp4"))
    reader = S3RangeReader(s3, bucket, "long.mp4")
    with pytest.raises(MediaInvalid) as caught:
        validate_video(reader)
    assert caught.value.code == "video_too_long"
    assert str(caught.value) == ("The video is 31.0 s long; YouCam accepts at most 30 s. Trim it to 30 s or less "
                                 "and upload it again.")
    assert reader.bytes_fetched == size  # a tiny file fits in the first block


def test_accepts_a_30_s_video(s3: Any, bucket: str, media: Media) -> None:
    upload(s3, bucket, "thirty.mp4", media.encoded_bytes("30s.mp4"))
    info = validate_video(S3RangeReader(s3, bucket, "thirty.mp4"))
    assert info.duration_seconds == pytest.approx(30.0)
    assert (dst_duration(info.duration_seconds), billable_units(info.duration_seconds)) == (30, 6)


@pytest.mark.parametrize(("name", "code"), [
    ("60fps.mp4", "video_fps_too_high"),
    ("4096x2160.mp4", "video_resolution_too_high"),
    ("hevc.mp4", "unsupported_codec"),
    ("opus.mp4", "unsupported_audio_codec"),
    ("mjpeg.mp4", "unsupported_codec"),
    ("mpeg4.avi", "unsupported_container"),
])
def test_rejects_each_vendor_limit(s3: Any, bucket: str, media: Media, name: str, code: str) -> None:
    upload(s3, bucket, name, media.encoded_bytes(name))
    with pytest.raises(MediaInvalid) as caught:
        validate_video(S3RangeReader(s3, bucket, name))
    assert caught.value.code == code


@pytest.mark.parametrize("name", ["29.97fps.mp4", "30fps.mp4", "h264.mov", "mpeg4.mp4", "mp3.mov", "amr.mov"])
def test_accepts_what_the_vendor_accepts(s3: Any, bucket: str, media: Media, name: str) -> None:
    upload(s3, bucket, name, media.encoded_bytes(name))
    assert validate_video(S3RangeReader(s3, bucket, name)).duration_seconds > 0


def test_size_limit_needs_no_media_read(s3: Any, bucket: str, media: Media) -> None:
    data = mf.insert_free_box_before_moov(media.encoded_bytes("h264.mp4"), PADDING)
    size = upload(s3, bucket, "over-limit.mp4", data)
    reader = S3RangeReader(s3, bucket, "over-limit.mp4", size=size)
    with pytest.raises(MediaInvalid) as caught:
        validate_video(reader, MediaLimits(max_video_bytes=10_000_000))
    assert caught.value.code == "video_too_large"
    assert reader.bytes_fetched < 100_000


def test_a_zero_byte_object_is_rejected_without_a_ranged_get(s3: Any, bucket: str) -> None:
    upload(s3, bucket, "empty.mp4", b"")
    reader = S3RangeReader(s3, bucket, "empty.mp4")
    with pytest.raises(MediaInvalid) as caught:
        validate_video(reader)
    assert caught.value.code == "empty_file"
    assert reader.requests == 1  # the HEAD only


def test_validates_images_over_s3(s3: Any, bucket: str) -> None:
    card = mf.face_like_image(200, 150)
    upload(s3, bucket, "face.jpg", mf.encode_image(card, ".jpg"))
    upload(s3, bucket, "face.png", mf.encode_image(card, ".png"))
    jpeg = validate_image(S3RangeReader(s3, bucket, "face.jpg"))
    png = validate_image(S3RangeReader(s3, bucket, "face.png"))
    assert (jpeg.format, jpeg.width, jpeg.height) == ("jpeg", 200, 150)
    assert (png.format, png.width, png.height) == ("png", 200, 150)


def test_the_package_imports_nothing_outside_the_standard_library() -> None:
    code = ("import sys; before = set(sys.modules); import faceswap.media; "
            "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=CORE_SRC, timeout=30)
    third_party = set(result.stdout.split()) - set(sys.stdlib_module_names) - {"faceswap"}
    assert third_party == set()
