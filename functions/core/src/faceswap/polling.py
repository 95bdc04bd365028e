"""The poller's decisions, as pure functions: how long the next Wait lasts, and when a poller hands its job over to
a fresh one before the Express limit of 5 minutes."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime

from faceswap.budgets import HAND_OVER_AFTER_SECONDS, MAX_WAIT_SECONDS
from faceswap.config import DEFAULT_POLLING_INTERVAL_SECONDS
from faceswap.layout import Env
from faceswap.states import PollState, StateError

# The poller is an Express workflow, which runs at most 5 minutes (faceswap.budgets): one Wait lasts at most
# MAX_WAIT_SECONDS, and a poller whose next Wait would end past HAND_OVER_AFTER_SECONDS hands over instead.
__all__ = ["HAND_OVER_AFTER_SECONDS", "MAX_WAIT_SECONDS", "hand_over_budget", "next_poll", "seconds_since",
           "should_hand_over", "wait_seconds"]


def wait_seconds(interval: float | None) -> int:
    """Wait states take whole seconds; fall back to the configured default when the API gives none."""
    default = float(os.environ.get(Env.DEFAULT_POLLING_INTERVAL_SECONDS) or DEFAULT_POLLING_INTERVAL_SECONDS)
    return min(MAX_WAIT_SECONDS, max(1, math.ceil(interval if interval and interval > 0 else default)))


def hand_over_budget() -> float:
    """Seconds a poller may plan to run (Env.POLLER_HAND_OVER_SECONDS overrides the default)."""
    return float(os.environ.get(Env.POLLER_HAND_OVER_SECONDS) or HAND_OVER_AFTER_SECONDS)


def should_hand_over(elapsed_seconds: float, next_wait_seconds: float, budget_seconds: float) -> bool:
    """True when the next wait would end past the budget: a fresh poller takes the job on instead."""
    return elapsed_seconds + next_wait_seconds > budget_seconds


def next_poll(*, final: bool, status: str, count: int, interval: float | None, elapsed_seconds: float,
              budget_seconds: float, vendor_error: StateError | None = None) -> PollState:
    """check_status's answer, what the poller's next states read: the next Wait and whether to hand over first."""
    wait = wait_seconds(interval)
    return PollState(final=final, status=status, count=count, interval_seconds=wait, vendor_error=vendor_error,
                     hand_over=should_hand_over(elapsed_seconds, wait, budget_seconds))


def seconds_since(timestamp: str | None, now: datetime) -> float:
    """Seconds from an ISO-8601 time (Step Functions' `$$.Execution.StartTime`) to `now`; 0 without a time."""
    if not timestamp:
        return 0.0
    started = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return (now - started).total_seconds()
