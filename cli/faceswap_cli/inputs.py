"""Check the user's files on this machine, before any byte is uploaded or any vendor unit is spent.

The same checks as the start Lambda (faceswap.jobs key rules, faceswap.media header probes), on local files
through a FileRangeReader: only the container headers are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from faceswap.jobs import FACE_SUFFIXES, NAME_PATTERN, VIDEO_SUFFIXES
from faceswap.media import (
    FileRangeReader,
    ImageInfo,
    MediaInvalid,
    MediaLimits,
    VideoInfo,
    validate_image,
    validate_video,
)
from faceswap_cli.errors import BadInput


@dataclass(frozen=True)
class CheckedInputs:
    video: Path
    face: Path
    video_info: VideoInfo
    face_info: ImageInfo


def check_inputs(video: Path, face: Path, limits: MediaLimits | None = None) -> CheckedInputs:
    """Raises BadInput with the reason and the fix; returns what was probed."""
    limits = limits or MediaLimits()
    _check_file(video, "video", VIDEO_SUFFIXES, "an MP4 or MOV video (H.264 or MPEG-4)")
    _check_file(face, "face photo", FACE_SUFFIXES, "a JPEG or PNG photo")
    try:
        video_info = validate_video(FileRangeReader(video), limits)
    except MediaInvalid as exc:
        raise BadInput(f"{video.name}: {exc.message}", exc.what_to_fix) from exc
    try:
        face_info = validate_image(FileRangeReader(face), limits)
    except MediaInvalid as exc:
        raise BadInput(f"{face.name}: {exc.message}", exc.what_to_fix) from exc
    return CheckedInputs(video, face, video_info, face_info)


def _check_file(path: Path, what: str, suffixes: tuple[str, ...], accepted: str) -> None:
    if not path.is_file():
        raise BadInput(f"There is no {what} at {path}.", "Check the path (and that it is a file, not a folder).")
    if path.suffix.lower() not in suffixes:
        raise BadInput(f"{path.name} is not a {what} the pipeline accepts: it needs {accepted}.",
                       f"Convert it, and name it with one of: {', '.join(suffixes)}.")


def job_name(requested: str | None, video: Path) -> str:
    """The name given, checked; else one made from the video's file name."""
    if requested is not None:
        if not NAME_PATTERN.fullmatch(requested):
            raise BadInput(f"The job name {requested!r} is not allowed.",
                           "Use 1-64 letters, digits, '-' or '_', starting with a letter or digit.")
        return requested
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", video.stem).strip("-_")[:64] or "job"
    return cleaned if NAME_PATTERN.fullmatch(cleaned) else f"job-{cleaned}"[:64]


def upload_name(path: Path) -> str:
    """A key-safe file name: S3 events URL-encode keys, so plain characters avoid surprises downstream."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.") or "file"
    return f"{stem[:100]}{path.suffix.lower()}"
