"""The check itself: does the video show a face in any sampled frame, and does the photo show one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detect_faces.haar import HaarFaceDetector
from detect_faces.sampling import sample_frames


@dataclass(frozen=True)
class FaceCheckResult:
    """What the detector function returns (as JSON). The start function reads it (faceswap/faces.py)."""

    frames_checked: int  # 0: OpenCV could not decode the video (no evidence either way)
    frames_with_face: int
    photo_has_face: bool | None  # None: OpenCV could not decode the photo

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_faces(detector: HaarFaceDetector, video: Path, photo: bytes, samples: int) -> FaceCheckResult:
    """Every sampled frame is checked (not only up to the first face): the count tells how clearly a video
    passed, which is what to look at when tuning `samples`."""
    checked = with_face = 0
    for frame in sample_frames(video, samples):
        checked += 1
        with_face += detector.has_face(frame)
    return FaceCheckResult(checked, with_face, _photo_has_face(detector, photo))


def _photo_has_face(detector: HaarFaceDetector, photo: bytes) -> bool | None:
    image = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else detector.has_face(image)
