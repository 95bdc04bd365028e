"""One background thread that runs callbacks at given times (task completion, delayed webhooks)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, name: str = "emulator-scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def call_at(self, when: float, fn: Callable[[], None]) -> None:
        """Run fn on the scheduler thread at time.monotonic() == when (at once if already past)."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._counter), fn))
            self._cond.notify_all()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        self.call_at(time.monotonic() + max(0.0, delay), fn)

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()

    def _next_due(self) -> Callable[[], None] | None:
        with self._cond:
            while not self._stopped:
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._heap)[2]
                self._cond.wait(timeout=wait)
            return None

    def _loop(self) -> None:
        while (fn := self._next_due()) is not None:
            try:
                fn()
            except Exception:  # a failing callback must not stop the clock for the others
                log.exception("scheduled callback failed")
