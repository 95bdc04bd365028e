"""The tests' media, each kind made once per session (on first use) and shared by every test package but
tests/emulator: the `media` fixture (tests/conftest.py) is a `Media`.

Two families:
- job inputs, from local.media (the astronaut's face panning over a backdrop, her recoloured portrait, a coffee cup):
  `media.clip`, `media.face`, `media.no_face_video`, `media.no_face_image`, and `media.video(seconds=..., fps=...)`
  for any other video;
- the media-validation corpus: codecs, containers and edge cases encoded by imageio-ffmpeg's ffmpeg
  (`media.encoded("hevc.mp4")`), and byte-level edits of them (box surgery) for corner cases encoders never produce.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from local.media import make_face_image, make_no_face_image, make_video

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
CLIP_SECONDS = 3.0  # media.clip: one vendor unit


class Media:
    """Every kind of test media, encoded on first use into one folder and kept for the session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[object, Path] = {}

    # --- job inputs -----------------------------------------------------------------------------------------
    @property
    def clip(self) -> Path:
        """The job video: 3 s, 640x360, 25 fps, a face in every frame (clip.mp4)."""
        return self.video()

    @property
    def face(self) -> Path:
        """The reference face photo (face.png)."""
        return self.image(face=True)

    @property
    def no_face_video(self) -> Path:
        return self.video(seconds=2, face=False)

    @property
    def no_face_image(self) -> Path:
        return self.image(face=False)

    def video(self, *, seconds: float = CLIP_SECONDS, fps: float = 25.0, size: tuple[int, int] = (640, 360),
              face: bool = True, moov_at_end: bool = False) -> Path:
        """A video with these properties (see local.media.make_video), made once per set of properties."""
        key = ("video", seconds, fps, size, face, moov_at_end)
        name = "clip.mp4" if key == ("video", CLIP_SECONDS, 25.0, (640, 360), True, False) else (
            f"video-{seconds:g}s-{fps:g}fps-{size[0]}x{size[1]}{'' if face else '-no-face'}"
            f"{'-moov-at-end' if moov_at_end else ''}.mp4")
        return self._once(key, lambda: make_video(self.root / name, seconds=seconds, fps=fps, size=size, face=face,
                                                  moov_at_end=moov_at_end))

    def image(self, *, face: bool = True, suffix: str = ".png") -> Path:
        """The reference face photo, or a photo with no face (a coffee cup), as PNG or JPEG."""
        path = self.root / f"{'face' if face else 'no-face'}{suffix}"
        return self._once(("image", face, suffix),
                          lambda: make_face_image(path) if face else make_no_face_image(path))

    # --- the media-validation corpus ------------------------------------------------------------------------
    def encoded(self, name: str) -> Path:
        """One file of the corpus (the names of CORPUS)."""
        (self.root / "corpus").mkdir(exist_ok=True)
        return self._once(("corpus", name), lambda: CORPUS[name](self.root / "corpus" / name))

    def encoded_bytes(self, name: str) -> bytes:
        return self.encoded(name).read_bytes()

    def _once(self, key: object, make: Callable[[], Path]) -> Path:
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]


# --- encoders of the corpus -------------------------------------------------------------------------------------
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


CORPUS: dict[str, Callable[[Path], Path]] = {
    "h264.mp4": lambda p: write_video(p),  # ffmpeg's default: moov after mdat
    "faststart.mp4": lambda p: write_video(p, output_params=["-movflags", "+faststart"]),
    "30fps.mp4": lambda p: write_video(p, fps=30, frames=30),
    "29.97fps.mp4": lambda p: write_video(p, fps=29.97, frames=30),
    "60fps.mp4": lambda p: write_video(p, fps=60, frames=12),
    "31s.mp4": lambda p: write_video(p, fps=1, frames=31),
    "30s.mp4": lambda p: write_video(p, fps=2, frames=60),
    "4096x2160.mp4": lambda p: write_video(p, size=(4096, 2160), frames=1),
    "portrait.mp4": lambda p: write_video(p, size=(48, 96), frames=5),
    "h264.mov": lambda p: write_video(p),
    "mpeg4.mp4": lambda p: write_video(p, codec="mpeg4"),
    "mpeg4.mov": lambda p: write_video(p, codec="mpeg4"),
    "hevc.mp4": lambda p: write_video(p, codec="libx265", output_params=["-x265-params", "log-level=error"]),
    "fragmented.mp4": lambda p: write_video(p, output_params=["-movflags", "frag_keyframe+empty_moov"]),
    "mpeg4.avi": lambda p: write_video(p, codec="mpeg4"),
    "aac.mp4": lambda p: write_video_with_audio(p, ["-c:a", "aac"]),
    "mp3.mp4": lambda p: write_video_with_audio(p, ["-c:a", "libmp3lame"]),
    "mp3.mov": lambda p: write_video_with_audio(p, ["-c:a", "libmp3lame"]),
    "amr.mov": lambda p: write_video_with_audio(p, ["-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1"]),
    "opus.mp4": lambda p: write_video_with_audio(p, ["-c:a", "libopus", "-ar", "48000"]),
    "audio_only.m4a": lambda p: ffmpeg_output(p, "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"),
    "mjpeg.mp4": lambda p: ffmpeg_output(p, "-f", "lavfi", "-i", "color=s=64x64:r=25:d=0.4", "-c:v", "mjpeg",
                                         "-pix_fmt", "yuvj420p"),
}


# --- images, in memory --------------------------------------------------------------------------------------------
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


# --- box surgery: byte-level edits of encoded MP4s -----------------------------------------------------------------
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
