"""How long a waiting job stays away: about until a slot will be free for it, never sooner than the minimum, at
most 900 s per wait, with jitter so that waiters do not come back together.

The estimate: a job at position p (p - 1 numbered jobs ahead of it) gets in at the (p - free)-th slot release from
now. The current holders release at admitted_at + H (H: the measured mean hold time; one that is overdue "soon",
see OVERDUE_FRACTION); every release admits a job that releases H later again. So the k-th release is the
((k - 1) mod n)-th of the n expected holder releases plus ((k - 1) div n) * H. The create rate bounds it too:
the p-th admission from now cannot come before (p - tokens) / rate.
"""

from __future__ import annotations

import math
import random

from faceswap.admission.model import (
    BREAKER_OPEN,
    CONTENTION,
    CREDIT_SHORT,
    VENDOR_BUSY,
    AdmissionState,
    QueueTicket,
)
from faceswap.admission.policy import hold_estimate, position, tokens_at
from faceswap.admission.settings import AdmissionSettings

# Tuned with bench/admission_sim.py (see bench/README.md): early rather than late, since a late re-check leaves a
# slot idle while an early one costs one more read.
EARLY_FACTOR = 0.9  # re-check at this fraction of the estimate
OVERDUE_FRACTION = 0.1  # a holder past its expected release is expected to end within this fraction of H
JITTER = 0.1  # +-10 % of the delay...
JITTER_FLOOR_SECONDS = 1.0  # ...and at least 0..1 s, so that short waits spread too


def slot_eta(state: AdmissionState, place: int, now: float, settings: AdmissionSettings) -> float:
    """Seconds until the job at `place` (1 = next) can expect a slot: release-based and rate-based."""
    hold = hold_estimate(state, settings)
    free = settings.max_tasks_in_flight - len(state.holders)
    need = place - free
    releases = _release_times(state, hold, now, settings)
    eta = 0.0
    if need > 0:
        k = need - 1
        eta = releases[k % len(releases)] + (k // len(releases)) * hold - now
    rate_eta = (place - tokens_at(state, now, settings)) / settings.max_creates_per_second
    return max(eta, rate_eta, 0.0)


def _release_times(state: AdmissionState, hold: float, now: float, settings: AdmissionSettings) -> list[float]:
    soon = now + max(settings.min_recheck_seconds, OVERDUE_FRACTION * hold)
    times = sorted(max(h.admitted_at + hold, soon) for h in state.holders.values())
    # No holders but a queue ahead: the jobs ahead take the free slots now and release one hold time later.
    return times or [now + hold] * settings.max_tasks_in_flight


def recheck_delay(state: AdmissionState, reason: str, ticket: QueueTicket, now: float, settings: AdmissionSettings,
                  rng: random.Random, not_before: float = 0.0) -> int:
    """Whole seconds (SQS DelaySeconds) until the job should try again; `not_before`: e.g. a vendor Retry-After."""
    place = position(state, ticket)
    if reason == CREDIT_SHORT:  # a new balance is read once the cached one is this old
        wanted = max(settings.credit_cache_seconds - (now - state.credit_read_at), 0.0)
        since = ticket.credit_short_since if ticket.credit_short_since is not None else now
        wanted = min(wanted, since + settings.credit_wait_seconds - now)  # come back in time to be refused
    elif reason in (CONTENTION, VENDOR_BUSY):  # not a queue wait: as soon as allowed (not_before, breaker)
        wanted = 0.0
    else:
        wanted = EARLY_FACTOR * slot_eta(state, place, now, settings)
    if reason == BREAKER_OPEN or state.open_until > now:
        # Every waiter comes back after the breaker closes, spread over the time the create rate needs anyway.
        spread = min(place, settings.max_tasks_in_flight) / settings.max_creates_per_second
        wanted = max(wanted, state.open_until - now + rng.uniform(0, spread))
    wanted = max(wanted, not_before)
    jittered = wanted * rng.uniform(1 - JITTER, 1 + JITTER) + rng.uniform(0, JITTER_FLOOR_SECONDS)
    # Never past the moment the job must be refused for waiting too long, so that it is refused on time.
    deadline = ticket.queued_at + settings.max_queue_wait_seconds - now + 1
    bounded = min(jittered, max(deadline, 0))
    return int(min(settings.max_recheck_seconds, max(settings.min_recheck_seconds, math.ceil(bounded))))
