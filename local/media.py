"""Demo and test media made on the fly from public-domain pictures shipped inside installed packages.

The face is NASA's portrait of astronaut Eileen Collins (`skimage.data.astronaut()`, public domain). The
packages ship no second public-domain face, so the *reference* photo is the same portrait mirrored and
hue-shifted (green skin, green hair): a swap is obvious to the eye and measurable by a test.
Nothing here is committed: tests and the demo generate small files at run time.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path
from typing import Any

import cv2
import imageio_ffmpeg
import numpy as np
import skimage.data

# Where the default frontal Haar cascade finds the face in skimage.data.astronaut(): (x, y, w, h).
ASTRONAUT_FACE = (177, 66, 95, 95)
REFERENCE_HUE_SHIFT = 60  # OpenCV hue units (0..180): skin turns green


def astronaut_rgb() -> np.ndarray:
    return np.asarray(skimage.data.astronaut())


def reference_face_rgb() -> np.ndarray:
    """The reference face: the astronaut mirrored and recoloured, so it differs visibly from the video's."""
    mirrored = np.ascontiguousarray(astronaut_rgb()[:, ::-1])
    hsv = cv2.cvtColor(mirrored, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + REFERENCE_HUE_SHIFT) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def make_face_image(path: Path | str, reference: bool = True) -> Path:
    """Write the reference face photo (or, reference=False, the unmodified portrait); .jpg or .png by suffix."""
    path = Path(path)
    rgb = reference_face_rgb() if reference else astronaut_rgb()
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise ValueError(f"cannot write an image to {path} (use .jpg or .png)")
    return path


def make_no_face_image(path: Path | str) -> Path:
    """A photo with no face in it (scikit-image's coffee cup)."""
    path = Path(path)
    cv2.imwrite(str(path), cv2.cvtColor(np.asarray(skimage.data.coffee()), cv2.COLOR_RGB2BGR))
    return path


def _background(width: int, height: int) -> np.ndarray:
    """A static textured backdrop: gradient plus grid, so codec noise on it looks like real footage."""
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    frame = np.empty((height, width, 3), np.float32)
    frame[..., 0] = 40 + 60 * xs + 20 * ys
    frame[..., 1] = 70 + 50 * ys + 10 * xs
    frame[..., 2] = 110 + 40 * (1 - xs)
    step = max(8, height // 12)
    frame[::step, :, :] += 25
    frame[:, ::step, :] += 25
    return np.clip(frame, 0, 255).astype(np.uint8)


def _placement(index: int, frames: int, width: int, height: int, face: bool) -> np.ndarray:
    """Affine matrix for frame `index`: a gentle zoom and sideways pan that keeps the whole face in frame."""
    phase = 2 * math.pi * index / max(1, frames)
    scale = height / 360 * (0.9 + 0.05 * math.sin(phase)) * (1.0 if face else 1.3)
    pan = width * 0.05 * math.sin(phase)
    fx, fy, fw, fh = ASTRONAUT_FACE
    tx = width * 0.5 + pan - (fx + fw / 2) * scale
    ty = height * 0.42 - (fy + fh / 2) * scale
    return np.array([[scale, 0, tx], [0, scale, ty]], dtype=np.float32)


def _sine_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    samples = np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 0.2 * 32767
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def make_video(
    path: Path | str,
    seconds: float = 3.0,
    fps: float = 25.0,
    size: tuple[int, int] = (640, 360),
    face: bool = True,
    moov_at_end: bool = False,
    audio: bool = False,
) -> Path:
    """Write an H.264 MP4 (or .mov/.mkv by suffix): the astronaut's face panning gently over a backdrop.

    face=False shows a coffee cup instead (no face anywhere). moov_at_end keeps ffmpeg's default layout
    (index after the media data, as phones and many encoders write it); otherwise the file is "faststart".
    audio adds a 440 Hz AAC tone.
    """
    path = Path(path)
    width, height = size
    frames = max(1, round(seconds * fps))
    picture = astronaut_rgb() if face else np.asarray(skimage.data.coffee())
    backdrop = _background(width, height)
    extra: dict[str, Any] = {}
    wav = path.with_suffix(".tone.wav")
    if audio:
        extra = {"audio_path": str(_sine_wav(wav, frames / fps)), "audio_codec": "aac"}
    output_params = [] if moov_at_end else ["-movflags", "+faststart"]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=2,
        output_params=[*output_params, "-preset", "veryfast"], ffmpeg_log_level="error", **extra,
    )
    try:
        writer.send(None)
        for index in range(frames):
            frame = backdrop.copy()
            matrix = _placement(index, frames, width, height, face)
            cv2.warpAffine(picture, matrix, (width, height), dst=frame, borderMode=cv2.BORDER_TRANSPARENT)
            writer.send(frame.tobytes())
    finally:
        writer.close()
        wav.unlink(missing_ok=True)
    return path


def make_truncated_video(source: Path | str, path: Path | str, keep_fraction: float = 0.5) -> Path:
    """The first part of a video file: with the index at the end (moov_at_end=True) it cannot be decoded."""
    data = Path(source).read_bytes()
    path = Path(path)
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


def make_sparse_file(path: Path | str, size_bytes: int, head: bytes = b"") -> Path:
    """A file of the given size that costs no disk blocks (for size-limit tests): `head`, then zeros."""
    path = Path(path)
    with path.open("wb") as out:
        out.write(head)
        out.truncate(size_bytes)
    return path


def mp4_top_level_boxes(path: Path | str) -> list[str]:
    """The order of the top-level ISO-BMFF boxes, e.g. ['ftyp', 'moov', 'free', 'mdat'] for faststart."""
    boxes: list[str] = []
    with Path(path).open("rb") as handle:
        while header := handle.read(8):
            if len(header) < 8:
                break
            size, kind = int.from_bytes(header[:4], "big"), header[4:8].decode("latin-1")
            boxes.append(kind)
            header_size = 8
            if size == 1:  # 64-bit size follows the type
                size, header_size = int.from_bytes(handle.read(8), "big"), 16
            elif size == 0:  # box runs to the end of the file
                break
            handle.seek(size - header_size, 1)
    return boxes
