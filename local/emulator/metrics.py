"""Request counters per route template and status code, so tests can prove retries and back-off."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


class RequestMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_route: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._by_route_status: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def record(self, route: str, status: int) -> None:
        """route is "METHOD /path/{template}", e.g. "GET /s2s/v2.0/task/face-swap-vid/{task_id}"."""
        with self._lock:
            self._by_route[route] += 1
            self._by_status[str(status)] += 1
            self._by_route_status[route][str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._by_route),
                "status_codes": dict(self._by_status),
                "responses": {route: dict(c) for route, c in self._by_route_status.items()},
            }

    def clear(self) -> None:
        with self._lock:
            self._by_route.clear()
            self._by_status.clear()
            self._by_route_status.clear()
