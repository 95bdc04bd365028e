"""`eventually()`: the one way the local stack, its tests and the bench wait for something to become true.

    view = eventually(lambda: pipeline.view(job_id) if pipeline.view(job_id).error else None, timeout=30)

The probe is called until it returns something other than None or False; that value is returned. On timeout a
`TimeoutError` names what was awaited and the last value seen, so a failing test says what it was waiting for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float, *, interval: float = 0.1,
               what: str = "") -> T:
    """The first value of `probe()` that is neither None nor False, polled every `interval` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what or getattr(probe, '__name__', 'condition')} not met within {timeout} s "
                               f"(last: {value!r})")
        time.sleep(interval)
