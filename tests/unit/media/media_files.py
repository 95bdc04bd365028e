"""Real media for the media-validation tests: videos encoded by the ffmpeg that imageio-ffmpeg ships, images
written by OpenCV, and byte-level edits of them (box surgery) for the corner cases encoders never produce."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def write_video(path: Path, size: tuple[int, int] = (64, 64), fps: float = 25, frames: int = 10,
                codec: str = "libx264", output_params: Sequence[str] = ()) -> Path:
    """Encode `frames` frames of a moving gradient with imageio_ffmpeg.write_frames."""
    width, height = size
    writer = imageio_ffmpeg.write_frames(
        str(path), size, fps=fps, codec=codec, pix_fmt_out="yuv420p", macro_block_size=1,
        output_params=list(output_params), ffmpeg_log_level="error",
    )
    writer.send(None)
    ramp = np.linspace(0, 255, width).astype(np.int64)[None, :, None]
    for index in range(frames):
        frame = np.broadcast_to((ramp + index * 8) % 256, (height, width, 3)).astype(np.uint8)
        writer.send(frame.tobytes())
    writer.close()
    return path


def ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg CLI (for inputs write_frames cannot make: audio tracks, rotation)."""
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60)


def ffmpeg_output(path: Path, *args: str) -> Path:
    ffmpeg(*args, str(path))
    return path


def write_video_with_audio(path: Path, audio_args: Sequence[str], seconds: float = 1.0) -> Path:
    return ffmpeg_output(path, "-f", "lavfi", "-i", f"color=c=blue:s=64x64:r=25:d={seconds}",
                         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
                         "-c:v", "libx264", "-pix_fmt", "yuv420p", *audio_args, "-shortest")


def top_level_boxes(data: bytes) -> list[tuple[str, int, int]]:
    """(type, offset, size) of each top-level box, walked independently of the code under test."""
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        elif size == 0:
            size = len(data) - pos
        boxes.append((kind.decode("latin-1"), pos, size))
        pos += size
    return boxes


def box(data: bytes, kind: str) -> tuple[int, int]:
    """(offset, size) of the first top-level box of this type."""
    return next((offset, size) for name, offset, size in top_level_boxes(data) if name == kind)


def top_level_free_box(size: int) -> bytes:
    return struct.pack(">I4s", size, b"free") + bytes(size - 8)


def insert_free_box_before_moov(data: bytes, padding: int) -> bytes:
    """Grow a moov-at-end file by a `free` box between mdat and moov (chunk offsets stay valid)."""
    moov_at, moov_size = box(data, "moov")
    assert moov_at + moov_size == len(data), "the moov must be the last box"
    return data[:moov_at] + top_level_free_box(padding) + data[moov_at:]


def with_largesize_mdat(data: bytes) -> bytes:
    """Merge ffmpeg's 8-byte `free` placeholder and the mdat header into a 16-byte largesize header."""
    free_at, free_size = box(data, "free")
    mdat_at, mdat_size = box(data, "mdat")
    assert free_size == 8 and mdat_at == free_at + 8
    header = struct.pack(">I4sQ", 1, b"mdat", mdat_size + 8)
    return data[:free_at] + header + data[mdat_at + 8:]


def with_moov_size_zero(data: bytes) -> bytes:
    """Mark the last box (the moov) as "extends to the end of the file" (size field 0)."""
    moov_at, moov_size = box(data, "moov")
    assert moov_at + moov_size == len(data)
    return data[:moov_at] + b"\x00\x00\x00\x00" + data[moov_at + 4:]


def replace_fourcc(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1
    return data.replace(old, new)


def face_like_image(width: int, height: int) -> np.ndarray:
    """A BGR test card; noise keeps the encoded file from being trivially small."""
    rng = np.random.default_rng(7)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    cv2.circle(image, (width // 2, height // 2), min(width, height) // 3, (200, 180, 160), -1)
    return image


def encode_image(image: np.ndarray, extension: str) -> bytes:
    ok, encoded = cv2.imencode(extension, image)
    assert ok
    return encoded.tobytes()


def jpeg_with_big_app_segments(jpeg: bytes, segments: int) -> bytes:
    """Insert maximal APP2 segments (as ICC profiles and EXIF do) so the frame header lies far from the start."""
    payload = b"ICC_PROFILE\x00" + bytes(65533 - 2 - 12)
    app2 = b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app2 * segments + jpeg[2:]
