"""The emulator's clock for everything that expires: presigned upload and result URLs, unpolled tasks, task ids,
the create-rate bucket and the timestamps in its records.

It runs with the wall clock plus an offset that only grows, so a test that waits for an expiry advances it
(`emulator.advance_clock(601)`) instead of sleeping, while processing and webhook delays stay in real time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds, as the emulated vendor sees it."""
        ...

    def advance(self, seconds: float) -> None:
        """Jump ahead; never back."""
        ...

    @property
    def offset_seconds(self) -> float:
        """How far ahead of the wall clock it runs."""
        ...


class AdjustableClock:
    """Wall time plus an offset that tests move forward."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self.advance(offset_seconds)

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:  # also refuses NaN
            raise ValueError("the clock only moves forward: seconds must be >= 0")
        with self._lock:
            self._offset += seconds
