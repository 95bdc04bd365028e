"""Face detection (OpenCV's bundled Haar cascade) and pasting a reference face with a soft elliptical mask."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# Detection runs on frames no larger than this (long side): cost grows with area, faces stay > 40 px.
DETECT_LONG_SIDE = 640
# The Haar box spans brows to chin; widen it so hairline and jaw come along with the pasted face.
PASTE_MARGIN = 0.15

_local = threading.local()


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def lerp(self, other: Box, t: float) -> Box:
        return Box(*(a + (b - a) * t for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.w, self.h)

    def grown(self, margin: float) -> Box:
        return Box(self.x - self.w * margin, self.y - self.h * margin, self.w * (1 + 2 * margin),
                   self.h * (1 + 2 * margin))


def _cascade() -> cv2.CascadeClassifier:
    # CascadeClassifier is not thread-safe: one per worker thread.
    if not hasattr(_local, "cascade"):
        _local.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE_FILE)  # type: ignore[attr-defined]
    return _local.cascade


def detect_face(rgb: np.ndarray) -> Box | None:
    """The most confident frontal face in an RGB frame (the vendor handles a single face), or None."""
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_LONG_SIDE / max(height, width))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    min_side = max(24, round(40 * scale))
    boxes, _, weights = _cascade().detectMultiScale3(
        gray, 1.1, 5, minSize=(min_side, min_side), outputRejectLevels=True
    )
    if len(boxes) == 0:
        return None
    # The most confident box, not the largest: a spacesuit collar can pass as a bigger "face".
    x, y, w, h = boxes[int(np.argmax(np.ravel(weights)))]
    return Box(x / scale, y / scale, w / scale, h / scale)


def _soft_ellipse(width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    center = (width // 2, height // 2)
    axes = (max(1, int(width * 0.40)), max(1, int(height * 0.46)))
    cv2.ellipse(mask, center, axes, 0, 0, 360, 1.0, thickness=-1)
    sigma = max(1.0, min(width, height) * 0.06)
    return cv2.GaussianBlur(mask, (0, 0), sigma)[..., None]


class FacePaster:
    """Holds the reference face crop; pastes it, resized and feathered, over a box in a frame."""

    def __init__(self, reference_rgb: np.ndarray, face: Box) -> None:
        self._crop = _crop(reference_rgb, face.grown(PASTE_MARGIN)).astype(np.float32)
        self._cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _resized(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        key = (width, height)
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            face = cv2.resize(self._crop, key, interpolation=cv2.INTER_LINEAR)
            self._cache[key] = (face, _soft_ellipse(width, height))
        return self._cache[key]

    def paste(self, frame: np.ndarray, box: Box) -> None:
        """Blend the reference face into frame (in place) over box, clipped to the frame."""
        target = box.grown(PASTE_MARGIN)
        x0, y0 = round(target.x), round(target.y)
        width, height = round(target.w), round(target.h)
        if width < 4 or height < 4:
            return
        face, alpha = self._resized(width, height)
        fx0, fy0 = max(0, -x0), max(0, -y0)
        x1, y1 = min(frame.shape[1], x0 + width), min(frame.shape[0], y0 + height)
        x0, y0 = max(0, x0), max(0, y0)
        if x1 <= x0 or y1 <= y0:
            return
        face = face[fy0 : fy0 + (y1 - y0), fx0 : fx0 + (x1 - x0)]
        alpha = alpha[fy0 : fy0 + (y1 - y0), fx0 : fx0 + (x1 - x0)]
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = (region + (face - region) * alpha).astype(np.uint8)


def _crop(image: np.ndarray, box: Box) -> np.ndarray:
    height, width = image.shape[:2]
    x0, y0 = max(0, round(box.x)), max(0, round(box.y))
    x1, y1 = min(width, round(box.x + box.w)), min(height, round(box.y + box.h))
    return image[y0:y1, x0:x1]
