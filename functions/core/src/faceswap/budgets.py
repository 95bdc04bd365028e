"""The state machines' time budgets, spelled once: each task's timeout and retries, and what follows from them.

A task's worst case is every attempt running to its timeout plus the longest delay before each retry. From those:
- an Express poller may run 5 minutes: a fresh one stores the token, waits once, then does a round (heartbeat,
  check, and a last call: signal, fail or hand over), so one Wait lasts at most MAX_WAIT_SECONDS; and a poller hands
  over when a check finds that its next Wait would end after HAND_OVER_AFTER_SECONDS, since the rest of that check,
  the Wait and one more round must still fit;
- the job's wait has a heartbeat timeout a margin above the longest gap between two heartbeats (across a hand-over);
- the job's run timeout must hold the wait, Finalize and Record failure, each at its worst.
infra/workflow.py builds the states from these timings; tests/infra/test_time_budgets.py recomputes the sums from the
synthesized definitions, and infra/config.py refuses settings that would break them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EXPRESS_LIMIT_SECONDS = 300  # an Express execution's longest run
EXPRESS_MARGIN_SECONDS = 30  # what a poller's worst case leaves of it
HEARTBEAT_MARGIN_SECONDS = 60  # between the longest heartbeat gap and the job's heartbeat timeout
INVOKE_ALLOWANCE_SECONDS = 5  # a Lambda task's timeout is its function's plus this (the invoke, a cold start)


@dataclass(frozen=True)
class Retry:
    """One Retry rule of a state (MaxAttempts retries after the first attempt)."""

    max_attempts: int
    interval_seconds: int
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None

    def delays(self) -> list[float]:
        """The longest delay before each retry (a FULL jitter only shortens them)."""
        cap = math.inf if self.max_delay_seconds is None else self.max_delay_seconds
        return [min(self.interval_seconds * self.backoff_rate ** n, cap) for n in range(self.max_attempts)]


@dataclass(frozen=True)
class TaskTiming:
    timeout_seconds: int
    retry: Retry

    @property
    def worst_seconds(self) -> float:
        """Every attempt runs to the timeout, every retry waits its longest delay."""
        return (1 + self.retry.max_attempts) * self.timeout_seconds + sum(self.retry.delays())

    @property
    def function_timeout_seconds(self) -> int:
        """For a Lambda task: its function's timeout, so that the function times out before the state does."""
        return self.timeout_seconds - INVOKE_ALLOWANCE_SECONDS


# --- the poller (Express) --------------------------------------------------------------------------------------------
STORE_TOKEN = TaskTiming(15, Retry(max_attempts=2, interval_seconds=1))
CHECK = TaskTiming(25, Retry(max_attempts=2, interval_seconds=2))  # one poll of the vendor
AWS_CALL = TaskTiming(5, Retry(max_attempts=2, interval_seconds=1))  # SendTaskHeartbeat/Success/Failure, StartExecution

_LIMIT = EXPRESS_LIMIT_SECONDS - EXPRESS_MARGIN_SECONDS
# After a Wait: the heartbeat, the check, then one last call (signal, fail the job or hand over).
ROUND_SECONDS = AWS_CALL.worst_seconds + CHECK.worst_seconds + AWS_CALL.worst_seconds
# A fresh poller's worst case: the token stored, one Wait, one round.
MAX_WAIT_SECONDS = math.floor(_LIMIT - STORE_TOKEN.worst_seconds - ROUND_SECONDS)
# A check measures the poller's age: the rest of that check, the next Wait and one round come after it.
HAND_OVER_AFTER_SECONDS = math.floor(_LIMIT - CHECK.timeout_seconds - ROUND_SECONDS)


def heartbeat_gaps() -> dict[str, float]:
    """The longest time between two heartbeats of the job's wait (or from its start to the first one)."""
    first = STORE_TOKEN.worst_seconds + MAX_WAIT_SECONDS + AWS_CALL.worst_seconds
    return {"first": first,  # the job starts the poller: token, Wait, heartbeat
            "between polls": CHECK.worst_seconds + MAX_WAIT_SECONDS + AWS_CALL.worst_seconds,
            "across a hand-over": CHECK.worst_seconds + AWS_CALL.worst_seconds + first}


# The job's wait fails this long after the last heartbeat (a poller that died), in whole minutes.
JOB_HEARTBEAT_SECONDS = 60 * math.ceil((max(heartbeat_gaps().values()) + HEARTBEAT_MARGIN_SECONDS) / 60)

# --- the job (Standard), after its wait ---------------------------------------------------------------------------
FINALIZE = TaskTiming(305, Retry(max_attempts=3, interval_seconds=5, backoff_rate=3, max_delay_seconds=60))
RECORD_FAILURE = TaskTiming(35, Retry(max_attempts=3, interval_seconds=2))
# The wait ends (token back, or its timeout); then Finalize, and Record failure if Finalize failed.
AFTER_WAIT_SECONDS = math.ceil(FINALIZE.worst_seconds + RECORD_FAILURE.worst_seconds)
