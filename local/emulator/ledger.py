"""What the emulated vendor saw, kept so that tests can prove the pipeline's guarantees from the vendor's side:
running tasks over time (a timeline and its maximum), how often each file was registered, uploaded or fetched
(by declared name and by content hash), and refused creates."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registered_by_name: Counter[str] = Counter()
        self._registered_by_type: Counter[str] = Counter()
        self._uploaded_by_name: Counter[str] = Counter()
        self._uploaded_by_sha256: Counter[str] = Counter()
        self._downloaded_by_sha256: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()
        self._timeline: list[tuple[float, int]] = []
        self._running = 0
        self._running_max = 0

    def file_registered(self, name: str, content_type: str) -> None:
        with self._lock:
            self._registered_by_name[name] += 1
            self._registered_by_type[content_type] += 1

    def file_uploaded(self, name: str, sha256: str) -> None:
        with self._lock:
            self._uploaded_by_name[name] += 1
            self._uploaded_by_sha256[sha256] += 1

    def input_downloaded(self, sha256: str) -> None:
        """An input fetched from a task's src_file_url / ref_file_url."""
        with self._lock:
            self._downloaded_by_sha256[sha256] += 1

    def throttled(self, reason: str) -> None:
        with self._lock:
            self._throttled[reason] += 1

    def running_changed(self, at: float, delta: int) -> None:
        with self._lock:
            self._running += delta
            self._running_max = max(self._running_max, self._running)
            self._timeline.append((at, self._running))

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "running_tasks": self._running,
                "running_max": self._running_max,
                "running_timeline": [[at, count] for at, count in self._timeline],
                "registrations_by_name": dict(self._registered_by_name),
                "registrations_by_content_type": dict(self._registered_by_type),
                "uploads_by_name": dict(self._uploaded_by_name),
                "uploads_by_sha256": dict(self._uploaded_by_sha256),
                "downloads_by_sha256": dict(self._downloaded_by_sha256),
                "throttled": dict(self._throttled),
            }

    def clear(self) -> None:
        with self._lock:
            for counter in (self._registered_by_name, self._registered_by_type, self._uploaded_by_name,
                            self._uploaded_by_sha256, self._downloaded_by_sha256, self._throttled):
                counter.clear()
            self._timeline.clear()
            self._running = self._running_max = 0
