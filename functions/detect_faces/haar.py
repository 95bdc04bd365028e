"""OpenCV's Haar frontal-face cascade, with the local vendor emulator's parameters (local/emulator/faces.py), so
that what the pre-check finds locally is what the emulated vendor finds."""

from __future__ import annotations

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# Frames are downscaled to this long side first: cost grows with area, faces stay > 40 px.
DETECT_LONG_SIDE = 640
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
MIN_FACE_PIXELS = 40  # at full size; never below 24 px after downscaling (the cascade's own window)


class HaarFaceDetector:
    """Not thread-safe (neither is CascadeClassifier): one per container, which serves one request at a time."""

    def __init__(self) -> None:
        path = cv2.data.haarcascades + CASCADE_FILE  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}")

    def has_face(self, bgr: np.ndarray) -> bool:
        """True when at least one frontal face is found in a BGR image (a video frame or a decoded photo)."""
        height, width = bgr.shape[:2]
        scale = min(1.0, DETECT_LONG_SIDE / max(height, width))
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        min_side = max(24, round(MIN_FACE_PIXELS * scale))
        faces = self._cascade.detectMultiScale(gray, SCALE_FACTOR, MIN_NEIGHBORS, minSize=(min_side, min_side))
        return len(faces) > 0
