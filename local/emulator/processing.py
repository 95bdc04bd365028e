"""The emulated engine: check the inputs the way the vendor does, then paste the reference face over the
face found in every frame and write a playable H.264 MP4 (long side <= 1280)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import imageio_ffmpeg
import numpy as np

from local.emulator.config import Limits
from local.emulator.engine_errors import EngineError
from local.emulator.faces import Box, FacePaster, detect_face
from local.emulator.tracking import track_faces

log = logging.getLogger(__name__)

SUPPORTED_CODECS = frozenset({"h264", "mpeg4"})  # "MPEG-4, MPEG-4 AVC"
ISO_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")
# Containers ffmpeg could read but the vendor does not accept (it takes mov/mp4 only).
OTHER_CONTAINERS = (b"RIFF", b"\x1aE\xdf\xa3", b"FLV", b"OggS", b"GIF8", b"0&\xb2u", b"\x00\x00\x01\xba")
DURATION_TOLERANCE_SECONDS = 0.5


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration: float
    codec: str
    audio_codec: str | None


@dataclass(frozen=True)
class SwapReport:
    frames: int
    frames_with_face: int
    output_size: tuple[int, int]
    fps: float
    input_duration: float


def check_container(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(12)
    if head[4:8] in ISO_BMFF_BOXES:
        return
    if head.startswith(OTHER_CONTAINERS) or head[:1] == b"\x47":  # 0x47: MPEG-TS sync byte
        raise EngineError("error_unsupported_video", "container is not mov/mp4")
    raise EngineError("error_decode_video", "not a readable video file")


def video_info(meta: dict[str, Any]) -> VideoInfo:
    width, height = meta.get("size") or (0, 0)
    return VideoInfo(
        width=int(width),
        height=int(height),
        fps=float(meta.get("fps") or 0.0),
        duration=float(meta.get("duration") or 0.0),
        codec=str(meta.get("codec", "")).lower(),
        audio_codec=meta.get("audio_codec"),
    )


def check_video(info: VideoInfo, limits: Limits) -> None:
    if info.codec not in SUPPORTED_CODECS:
        raise EngineError("error_unsupported_video", f"video codec {info.codec!r} is not MPEG-4 / H.264")
    if info.width <= 0 or info.height <= 0 or info.fps <= 0:
        raise EngineError("error_decode_video", "no video stream dimensions or frame rate")
    if info.fps > limits.max_fps + 0.01:
        raise EngineError("error_unsupported_video", f"{info.fps:g} fps is over {limits.max_fps:g}")
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > limits.max_long_side or short_side > limits.max_short_side:
        raise EngineError("error_unsupported_video", f"{info.width}x{info.height} is larger than 4K")
    if info.duration > limits.max_video_seconds + DURATION_TOLERANCE_SECONDS:
        raise EngineError("exceed_max_filesize", f"{info.duration:.1f} s is over {limits.max_video_seconds:g} s")


def load_reference(path: Path) -> tuple[np.ndarray, Box]:
    """The reference photo (RGB) and its face box; JPEG and PNG only, like the vendor."""
    data = path.read_bytes()
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise EngineError("error_decode_image", "reference is not a JPEG or PNG image")
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise EngineError("error_decode_image", "reference image cannot be decoded")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    face = detect_face(rgb)
    if face is None:
        raise EngineError("error_no_face", "no face in the reference image")
    return rgb, face


def output_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    scale = min(1.0, long_side / max(width, height))
    # yuv420p needs even dimensions.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _frames(reader: Iterator[bytes], info: VideoInfo, size: tuple[int, int]) -> Iterator[np.ndarray]:
    for raw in reader:
        frame = np.frombuffer(raw, np.uint8).reshape(info.height, info.width, 3)
        if size != (info.width, info.height):
            yield cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        else:
            yield frame.copy()


def _open_writer(out: Path, size: tuple[int, int], info: VideoInfo, source: Path) -> Any:
    audio: dict[str, Any] = {}
    if info.audio_codec:
        audio = {"audio_path": str(source), "audio_codec": "copy" if info.audio_codec == "aac" else "aac"}
    writer = imageio_ffmpeg.write_frames(
        str(out), size, fps=info.fps, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=2, quality=None,
        output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart"], ffmpeg_log_level="error",
        **audio,
    )
    writer.send(None)
    return writer


def swap_faces(video: Path, image: Path, out: Path, limits: Limits, detect_every: int = 5) -> SwapReport:
    """Run the whole swap; raises EngineError with the vendor's code when the inputs are refused."""
    check_container(video)
    reference, reference_face = load_reference(image)
    paster = FacePaster(reference, reference_face)
    reader = imageio_ffmpeg.read_frames(str(video))
    try:
        try:
            info = video_info(next(reader))
        except (OSError, RuntimeError, StopIteration) as exc:
            raise EngineError("error_decode_video", "ffmpeg cannot read the video") from exc
        check_video(info, limits)
        return _render(reader, info, paster, video, out, limits, detect_every)
    finally:
        reader.close()


def _render(
    reader: Iterator[bytes], info: VideoInfo, paster: FacePaster, video: Path, out: Path, limits: Limits,
    detect_every: int,
) -> SwapReport:
    size = output_size(info.width, info.height, limits.output_long_side)
    max_frames = int((limits.max_video_seconds + DURATION_TOLERANCE_SECONDS) * info.fps)
    frames = with_face = 0
    writer = _open_writer(out, size, info, video)
    try:
        for frame, box in track_faces(_frames(reader, info, size), detect_every):
            frames += 1
            if frames > max_frames:
                raise EngineError("exceed_max_filesize", "video is longer than allowed")
            if box is not None:
                paster.paste(frame, box)
                with_face += 1
            writer.send(frame.tobytes())
    except RuntimeError as exc:
        raise EngineError("error_decode_video", "decoding stopped mid-stream") from exc
    finally:
        writer.close()
    if frames == 0:
        raise EngineError("error_decode_video", "the video has no frames")
    if with_face == 0:
        raise EngineError("error_no_face", "no face found in the video")
    return SwapReport(frames, with_face, size, info.fps, info.duration)
