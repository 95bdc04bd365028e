"""probe_image / validate_image against JPEG and PNG files written by OpenCV, and other formats."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceswap.media import BytesRangeReader, MediaInvalid, MediaLimits, probe_image, validate_image
from tests import media as mf


@pytest.fixture(scope="module")
def card() -> np.ndarray:
    return mf.face_like_image(320, 240)


@pytest.mark.parametrize(("extension", "image_format"), [(".png", "png"), (".jpg", "jpeg")])
def test_reads_format_and_size(card: np.ndarray, extension: str, image_format: str) -> None:
    data = mf.encode_image(card, extension)
    reader = BytesRangeReader(data)
    info = probe_image(reader)
    assert (info.format, info.width, info.height, info.size_bytes) == (image_format, 320, 240, len(data))
    assert reader.bytes_fetched <= 64 * 1024 + 12


def test_reads_progressive_jpeg(card: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".jpg", card, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok
    data = encoded.tobytes()
    assert b"\xff\xc2" in data  # SOF2
    info = probe_image(BytesRangeReader(data))
    assert (info.width, info.height) == (320, 240)


def test_finds_the_jpeg_frame_header_after_large_metadata_segments(card: np.ndarray) -> None:
    data = mf.jpeg_with_big_app_segments(mf.encode_image(card, ".jpg"), segments=4)  # SOF at ~256 KiB
    reader = BytesRangeReader(data)
    info = probe_image(reader)
    assert (info.width, info.height) == (320, 240)
    assert reader.requests <= 6 and reader.bytes_fetched < len(data) // 3
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # still a valid JPEG
    assert decoded is not None and decoded.shape == (240, 320, 3)


@pytest.mark.parametrize(("data", "detected"), [
    (b"GIF89a" + bytes(100), "a GIF image"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(100), "a WebP image"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100), "a HEIC image"),
    (b"\x00\x00\x00\x20ftypisom" + bytes(100), "an ISO media file of another kind"),
    (b"BM" + bytes(100), "a BMP image"),
    (bytes(range(256)), "an unrecognised file"),
])
def test_rejects_other_formats(data: bytes, detected: str) -> None:
    with pytest.raises(MediaInvalid) as caught:
        probe_image(BytesRangeReader(data))
    assert caught.value.code == "unsupported_image_type"
    assert caught.value.message == f"The face image is {detected}; YouCam accepts JPEG or PNG images only."


@pytest.mark.parametrize("cut", ["png_tail", "png_header", "jpeg_header"])
def test_rejects_damaged_images(card: np.ndarray, cut: str) -> None:
    png, jpeg = mf.encode_image(card, ".png"), mf.encode_image(card, ".jpg")
    sof = jpeg.index(b"\xff\xc0")
    data = {"png_tail": png[:-40], "png_header": png[:20], "jpeg_header": jpeg[:sof + 6]}[cut]
    with pytest.raises(MediaInvalid) as caught:
        probe_image(BytesRangeReader(data))
    assert caught.value.code == "image_corrupt"


def test_rejects_a_zero_byte_image() -> None:
    with pytest.raises(MediaInvalid) as caught:
        validate_image(BytesRangeReader(b""))
    assert caught.value.code == "empty_file"
    assert "face image" in caught.value.message


def test_rejects_an_image_over_10_mb(card: np.ndarray) -> None:
    # A JPEG with a large trailer (as some cameras append) is still a JPEG, just too big.
    data = mf.encode_image(card, ".jpg") + bytes(10_000_001)
    with pytest.raises(MediaInvalid) as caught:
        validate_image(BytesRangeReader(data))
    assert caught.value.code == "image_too_large"
    assert "YouCam accepts at most 10 MB" in caught.value.message


def test_image_limit_is_configurable(card: np.ndarray) -> None:
    data = mf.encode_image(card, ".png")
    assert validate_image(BytesRangeReader(data)).format == "png"
    with pytest.raises(MediaInvalid) as caught:
        validate_image(BytesRangeReader(data), MediaLimits(max_image_bytes=len(data) - 1))
    assert caught.value.code == "image_too_large"
