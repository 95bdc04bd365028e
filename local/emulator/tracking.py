"""Detect the face on every Nth frame and interpolate the box in between (detection is the slow part)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from local.emulator.faces import Box, detect_face

Tracked = tuple[np.ndarray, Box | None]


def track_faces(frames: Iterable[np.ndarray], every: int = 5) -> Iterator[Tracked]:
    """Yield (frame, face box or None) in order, buffering at most `every` frames."""
    every = max(1, every)
    previous: Box | None = None
    misses = 0
    pending: list[np.ndarray] = []
    for index, frame in enumerate(frames):
        if index % every:
            pending.append(frame)
            continue
        found = detect_face(frame)
        misses = 0 if found else misses + 1
        # One missed keyframe keeps the last box: Haar flickers, real faces do not vanish for 1/5 s.
        current = found or (previous if misses == 1 else None)
        yield from _between(pending, previous, current)
        pending = []
        yield frame, current
        previous = current
    yield from _between(pending, previous, previous)


def _between(frames: list[np.ndarray], start: Box | None, end: Box | None) -> Iterator[Tracked]:
    steps = len(frames) + 1
    for offset, frame in enumerate(frames, start=1):
        if start is not None and end is not None:
            yield frame, start.lerp(end, offset / steps)
        else:
            yield frame, start or end
