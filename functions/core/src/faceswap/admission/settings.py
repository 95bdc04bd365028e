"""Admission limits, read once from the environment (CDK sets them from the faceswap:* context keys)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from faceswap.layout import Env

MAX_TASKS_IN_FLIGHT = Env.MAX_TASKS_IN_FLIGHT
MAX_CREATES_PER_SECOND = Env.MAX_CREATES_PER_SECOND
CREATE_BURST = Env.CREATE_BURST
MAX_QUEUE_WAIT_SECONDS = Env.MAX_QUEUE_WAIT_SECONDS
CREDIT_WAIT_SECONDS = Env.CREDIT_WAIT_SECONDS
CREDIT_CACHE_SECONDS = Env.CREDIT_CACHE_SECONDS
START_LEASE_SECONDS = Env.ADMISSION_START_LEASE_SECONDS
RUN_LEASE_SECONDS = Env.ADMISSION_RUN_LEASE_SECONDS
BREAKER_THRESHOLD = Env.BREAKER_THRESHOLD
BREAKER_BACKOFF_SECONDS = Env.BREAKER_BACKOFF_SECONDS
BREAKER_MAX_BACKOFF_SECONDS = Env.BREAKER_MAX_BACKOFF_SECONDS
MIN_RECHECK_SECONDS = Env.MIN_RECHECK_SECONDS
MAX_RECHECK_SECONDS = Env.MAX_RECHECK_SECONDS
INITIAL_HOLD_SECONDS = Env.ADMISSION_INITIAL_HOLD_SECONDS

ENV_NAMES = (MAX_TASKS_IN_FLIGHT, MAX_CREATES_PER_SECOND, CREATE_BURST, MAX_QUEUE_WAIT_SECONDS, CREDIT_WAIT_SECONDS,
             CREDIT_CACHE_SECONDS, START_LEASE_SECONDS, RUN_LEASE_SECONDS, BREAKER_THRESHOLD,
             BREAKER_BACKOFF_SECONDS, BREAKER_MAX_BACKOFF_SECONDS, MIN_RECHECK_SECONDS, MAX_RECHECK_SECONDS,
             INITIAL_HOLD_SECONDS)

SQS_MAX_DELAY_SECONDS = 900  # SQS DelaySeconds cannot be longer: a longer wait is several waits


@dataclass(frozen=True)
class AdmissionSettings:
    max_tasks_in_flight: int = 10  # slot holders at most: the vendor never sees more running tasks
    max_creates_per_second: float = 2.0  # token bucket refill rate
    create_burst: float = 2.0  # token bucket size: creates allowed back to back
    max_queue_wait_seconds: float = 6 * 3600  # then the job ends with queue_wait_exceeded
    credit_wait_seconds: float = 3600  # 0: a job that cannot be paid for ends at once (credit_insufficient)
    credit_cache_seconds: float = 60  # the vendor's balance is read at most this often (per table)
    start_lease_seconds: float = 660  # start function timeout (600 s) + 60 s: a crashed start frees its slot
    run_lease_seconds: float = 7800  # once the task exists: run timeout (120 min) + 10 min
    breaker_threshold: int = 3  # consecutive vendor 429s/timeouts that open the breaker
    breaker_backoff_seconds: float = 30  # first opening; doubles with each re-opening without a success between
    breaker_max_backoff_seconds: float = 900
    min_recheck_seconds: int = 2  # a waiting job never re-checks sooner
    max_recheck_seconds: int = SQS_MAX_DELAY_SECONDS
    initial_hold_seconds: float = 120  # slot hold time assumed until releases have measured it
    # Free slots that no numbered job has claimed for this long (or a quarter of a hold time, if shorter) go to
    # whoever asks (a burst's first deliveries, while the numbered jobs' messages are still behind them in the
    # queue): the queue's order yields to idle slots.
    queue_stall_seconds: float = 30

    def __post_init__(self) -> None:
        if self.max_tasks_in_flight < 1 or self.max_creates_per_second <= 0 or self.create_burst < 1:
            raise ValueError("max_tasks_in_flight and create_burst must be >= 1, max_creates_per_second > 0")
        if not 0 <= self.min_recheck_seconds <= self.max_recheck_seconds <= SQS_MAX_DELAY_SECONDS:
            raise ValueError(f"need 0 <= min_recheck_seconds <= max_recheck_seconds <= {SQS_MAX_DELAY_SECONDS}")
        if self.breaker_threshold < 1:
            raise ValueError("breaker_threshold must be >= 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AdmissionSettings:
        source = os.environ if env is None else env
        defaults = cls()

        def number(name: str, default: float) -> float:
            raw = source.get(name, "")
            return float(raw) if raw.strip() else default

        return cls(
            max_tasks_in_flight=int(number(MAX_TASKS_IN_FLIGHT, defaults.max_tasks_in_flight)),
            max_creates_per_second=number(MAX_CREATES_PER_SECOND, defaults.max_creates_per_second),
            create_burst=number(CREATE_BURST, defaults.create_burst),
            max_queue_wait_seconds=number(MAX_QUEUE_WAIT_SECONDS, defaults.max_queue_wait_seconds),
            credit_wait_seconds=number(CREDIT_WAIT_SECONDS, defaults.credit_wait_seconds),
            credit_cache_seconds=number(CREDIT_CACHE_SECONDS, defaults.credit_cache_seconds),
            start_lease_seconds=number(START_LEASE_SECONDS, defaults.start_lease_seconds),
            run_lease_seconds=number(RUN_LEASE_SECONDS, defaults.run_lease_seconds),
            breaker_threshold=int(number(BREAKER_THRESHOLD, defaults.breaker_threshold)),
            breaker_backoff_seconds=number(BREAKER_BACKOFF_SECONDS, defaults.breaker_backoff_seconds),
            breaker_max_backoff_seconds=number(BREAKER_MAX_BACKOFF_SECONDS, defaults.breaker_max_backoff_seconds),
            min_recheck_seconds=int(number(MIN_RECHECK_SECONDS, defaults.min_recheck_seconds)),
            max_recheck_seconds=int(number(MAX_RECHECK_SECONDS, defaults.max_recheck_seconds)),
            initial_hold_seconds=number(INITIAL_HOLD_SECONDS, defaults.initial_hold_seconds),
        )
