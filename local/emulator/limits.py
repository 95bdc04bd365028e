"""The vendor's admission limits on task creation, as fault switches: a cap on the account's running tasks and a
create rate (a token bucket). Both answer 429 "Too many requests" with a Retry-After, before anything is created
or charged. The vendor publishes neither number; its rate-limit page (docs.perfectcorp.com/develop/rate_limit, as
quoted in third-party notes: 250 requests per 300 s and 5 QPS, per IP and per key) is what the generic rate_429
switch stands in for."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from local.emulator.faults import Faults


class Throttled(Exception):
    """A create the vendor refuses with 429; `reason` is "running_cap" or "create_rate"."""

    def __init__(self, reason: str, retry_after_seconds: int) -> None:
        super().__init__(f"{reason}: retry after {retry_after_seconds} s")
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


@dataclass
class TokenBucket:
    """`rate` tokens a second up to `burst`; one per create. Starts full whenever its settings change."""

    rate: float = 0.0
    burst: int = 1
    tokens: float = 0.0
    updated_at: float = 0.0

    def take(self, rate: float, burst: int, now: float) -> float:
        """0 when a token was taken, else the seconds until one is there."""
        if (rate, burst) != (self.rate, self.burst):
            self.rate, self.burst, self.tokens, self.updated_at = rate, burst, float(burst), now
        self.tokens = min(float(burst), self.tokens + max(0.0, now - self.updated_at) * rate)
        self.updated_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate


class CreateLimits:
    """Decides, under the store's lock, whether one more task may be created now."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults
        self._lock = threading.Lock()
        self._bucket = TokenBucket()

    def admit(self, running: int, now: float) -> None:
        """Raise Throttled when `running` tasks already fill the cap or the create rate is spent."""
        cap = self._faults.max_running_tasks
        if cap is not None and running >= cap:
            # When a slot frees is unknown to the caller (as at the vendor): the configured hint.
            raise Throttled("running_cap", self._faults.retry_after_seconds)
        rate = self._faults.create_rate_per_second
        if rate is None:
            return
        with self._lock:
            wait = self._bucket.take(rate, self._faults.create_burst, now)
        if wait > 0:
            raise Throttled("create_rate", max(1, math.ceil(wait)))

    def reset(self) -> None:
        with self._lock:
            self._bucket = TokenBucket()
