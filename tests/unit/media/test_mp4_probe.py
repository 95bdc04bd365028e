"""probe_mp4 against real encoder output (imageio-ffmpeg's ffmpeg) and against damaged copies of it."""

from __future__ import annotations

import contextlib
import os
import random
from pathlib import Path

import pytest

from faceswap.media import BytesRangeReader, FileRangeReader, MediaInvalid, probe_mp4
from tests import media as mf
from tests.media import Media


def rejection(data: bytes, **kwargs: int) -> MediaInvalid:
    with pytest.raises(MediaInvalid) as caught:
        probe_mp4(BytesRangeReader(data), **kwargs)
    return caught.value


@pytest.mark.parametrize(("name", "fps", "duration"), [
    ("h264.mp4", 25.0, 0.4),
    ("30fps.mp4", 30.0, 1.0),
    ("29.97fps.mp4", 29.97, 30 / 29.97),
    ("60fps.mp4", 60.0, 0.2),
    ("31s.mp4", 1.0, 31.0),
])
def test_reads_frame_rate_and_duration_of_h264_mp4(media: Media, name: str, fps: float,
                                                    duration: float) -> None:
    info = probe_mp4(FileRangeReader(media.encoded(name)))
    assert info.container == "mp4" and info.brand == "isom"
    assert info.video_codec == "h264" and info.audio_codec is None
    assert info.fps == pytest.approx(fps, abs=0.005)
    assert info.duration_seconds == pytest.approx(duration, abs=0.01)
    assert (info.width, info.height) == (64, 64)
    assert info.size_bytes == os.path.getsize(media.encoded(name))


def test_finds_moov_at_the_end_and_at_the_start(media: Media) -> None:
    at_end, faststart = media.encoded_bytes("h264.mp4"), media.encoded_bytes("faststart.mp4")
    assert [name for name, _, _ in mf.top_level_boxes(at_end)][-1] == "moov"
    assert [name for name, _, _ in mf.top_level_boxes(faststart)][:2] == ["ftyp", "moov"]
    assert probe_mp4(BytesRangeReader(at_end)) == probe_mp4(BytesRangeReader(faststart))


def test_reads_4k_and_portrait_sizes(media: Media) -> None:
    assert probe_mp4(FileRangeReader(media.encoded("4096x2160.mp4"))).width == 4096
    portrait = probe_mp4(FileRangeReader(media.encoded("portrait.mp4")))
    assert (portrait.width, portrait.height) == (48, 96)


def test_rotation_matrix_swaps_the_displayed_size(media: Media, tmp_path: Path) -> None:
    rotated = tmp_path / "rotated.mp4"
    mf.ffmpeg("-display_rotation", "-90", "-i", str(media.encoded("portrait.mp4")), "-c", "copy", str(rotated))
    info = probe_mp4(FileRangeReader(rotated))
    assert info.rotation == 90
    assert (info.width, info.height) == (96, 48)


@pytest.mark.parametrize(("name", "codec"), [
    ("h264.mov", "h264"), ("mpeg4.mov", "mpeg4"), ("mp3.mov", "h264"), ("amr.mov", "h264"),
])
def test_reads_quicktime_movies(media: Media, name: str, codec: str) -> None:
    info = probe_mp4(FileRangeReader(media.encoded(name)))
    assert info.container == "mov" and info.brand == "qt"
    assert info.video_codec == codec


@pytest.mark.parametrize(("name", "video", "audio"), [
    ("mpeg4.mp4", "mpeg4", None),
    ("hevc.mp4", "hevc", None),
    ("mjpeg.mp4", "mjpeg", None),  # an mp4v sample entry whose esds says Motion JPEG, not MPEG-4 Part 2
    ("aac.mp4", "h264", "aac"),
    ("mp3.mp4", "h264", "mp3"),  # mp4a sample entry, told apart from AAC by the esds object type
    ("mp3.mov", "h264", "mp3"),
    ("amr.mov", "h264", "amr"),
    ("opus.mp4", "h264", "opus"),
])
def test_names_video_and_audio_codecs(media: Media, name: str, video: str, audio: str | None) -> None:
    info = probe_mp4(FileRangeReader(media.encoded(name)))
    assert (info.video_codec, info.audio_codec) == (video, audio)


def test_reads_only_one_block_of_a_small_file(media: Media) -> None:
    reader = FileRangeReader(media.encoded("h264.mp4"))
    probe_mp4(reader)
    assert reader.requests == 1


def test_accepts_largesize_and_to_end_box_headers(media: Media) -> None:
    original = media.encoded_bytes("h264.mp4")
    expected = probe_mp4(BytesRangeReader(original))
    largesize = mf.with_largesize_mdat(original)
    assert ("mdat", 32, len(largesize) - 32 - mf.box(largesize, "moov")[1]) in mf.top_level_boxes(largesize)
    assert probe_mp4(BytesRangeReader(largesize)) == expected
    assert probe_mp4(BytesRangeReader(mf.with_moov_size_zero(original))) == expected


@pytest.mark.parametrize(("name", "detected"), [
    ("mpeg4.avi", "an AVI video"),
])
def test_rejects_other_containers(media: Media, name: str, detected: str) -> None:
    error = rejection(media.encoded_bytes(name))
    assert error.code == "unsupported_container"
    assert detected in error.message and "MP4 or MOV" in error.message


@pytest.mark.parametrize(("data", "detected"), [
    (bytes(range(256)) * 64, "an unrecognised file"),
    (b"\x1aE\xdf\xa3" + bytes(4000), "a WebM/Matroska video"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "a PNG image"),
    (b"\xff\xd8\xff\xe0" + bytes(100), "a JPEG image"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100), "a HEIC image"),
    (b"\x00\x00\x00\x14ftypabcd\x00\x00\x00\x00abcd" + bytes(100), "an ISO media file of type 'abcd'"),
    (b"abc", "an unrecognised file"),
])
def test_rejects_data_that_is_not_mp4(data: bytes, detected: str) -> None:
    error = rejection(data)
    assert error.code == "unsupported_container"
    assert detected in error.message


def test_rejects_a_zero_byte_file() -> None:
    reader = BytesRangeReader(b"")
    with pytest.raises(MediaInvalid) as caught:
        probe_mp4(reader)
    assert caught.value.code == "empty_file"
    assert reader.requests == 0


def test_rejects_truncated_files(media: Media) -> None:
    faststart, at_end = media.encoded_bytes("faststart.mp4"), media.encoded_bytes("h264.mp4")
    moov_end = sum(mf.box(faststart, "moov"))
    cases = {
        "mdat cut short": faststart[: len(faststart) - 100],
        "cut right after the moov": faststart[:moov_end],
        "moov never written": at_end[: mf.box(at_end, "moov")[0]],
        "moov cut short": at_end[:-10],
    }
    codes = {case: rejection(data).code for case, data in cases.items()}
    assert codes == dict.fromkeys(cases, "video_truncated")


def test_rejects_a_moov_larger_than_allowed(media: Media) -> None:
    error = rejection(media.encoded_bytes("h264.mp4"), max_moov_bytes=200)
    assert error.code == "video_header_too_large"


def test_rejects_a_file_without_video(media: Media) -> None:
    assert rejection(media.encoded_bytes("audio_only.m4a")).code == "no_video_track"


def test_rejects_a_fragmented_file_whose_length_is_unknown(media: Media) -> None:
    data = media.encoded_bytes("fragmented.mp4")
    assert "moof" in [name for name, _, _ in mf.top_level_boxes(data)]
    assert rejection(data).code == "fragmented_video"


def test_rejects_a_damaged_index(media: Media) -> None:
    data = bytearray(media.encoded_bytes("faststart.mp4"))
    moov_at, _ = mf.box(bytes(data), "moov")
    trak_at = data.index(b"trak", moov_at) - 4
    data[trak_at:trak_at + 4] = (10**6).to_bytes(4, "big")  # the trak now overruns its moov
    assert rejection(bytes(data)).code == "video_corrupt"


@pytest.mark.parametrize("name", ["faststart.mp4", "aac.mp4", "mp3.mov"])
def test_damaged_bytes_give_a_verdict_never_a_crash(media: Media, name: str) -> None:
    """A corrupt upload must end as MediaInvalid (a clean job failure), not as an unhandled exception."""
    original = media.encoded_bytes(name)
    rng = random.Random(name)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[pos:pos + 4] = rng.randbytes(4)
            else:
                del data[pos:pos + rng.randint(1, 40)]
        with contextlib.suppress(MediaInvalid):
            probe_mp4(BytesRangeReader(bytes(data)))
