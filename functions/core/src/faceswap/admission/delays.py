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
LEAD_HOLDS = 1.0  # a waiting job is back this many hold times (H) before its estimated turn, and polls from then on:
# ~max_tasks_in_flight * LEAD_HOLDS jobs poll at any time, each every `period`, and any of them takes a slot that
# frees, so a slot stands idle ~ period / (max_tasks_in_flight * LEAD_HOLDS). The period is chosen to keep that
# at GAP_FRACTION * H (the utilisation lost to it): ~H/7 with 10 slots, H with 100 (fewer polls per job).
GAP_FRACTION = 0.015
MEASURED_HOLDS = 5  # until this many hold times were measured, H is a guess (initial_hold_seconds)...
UNMEASURED_FACTOR = 0.5  # ...and a job comes back after half its estimate, or that guess, whichever is sooner
OVERDUE_FRACTION = 0.1  # a holder past its expected release is expected to end within this fraction of H
JITTER = 0.1  # +-10 % of the delay...
JITTER_FLOOR_SECONDS = 1.0  # ...and at least 0..1 s, so that short waits spread too


def slot_eta(state: AdmissionState, place: int, now: float, settings: AdmissionSettings) -> float:
    """Seconds until the job at `place` (1 = next) can expect a slot: release-based and rate-based."""
    hold = hold_estimate(state, settings)
    slots = settings.max_tasks_in_flight
    need = place - (slots - len(state.holders))  # releases to wait for: the jobs ahead take the free slots now
    eta = 0.0
    if need > 0:
        # The slots' next releases, in order: the holders' (admitted + H, an overdue one "soon"), then those of
        # the slots free now (taken now by jobs ahead: now + H). Every release refills its slot for H more.
        admitted = state.holders.admitted_times
        index, rounds = (need - 1) % slots, (need - 1) // slots
        soon = now + max(settings.min_recheck_seconds, OVERDUE_FRACTION * hold)
        first = max(admitted[index] + hold, soon) if index < len(admitted) else now + hold
        eta = first + rounds * hold - now
    rate_eta = (place - tokens_at(state, now, settings)) / settings.max_creates_per_second
    return max(eta, rate_eta, 0.0)


def queue_delay(state: AdmissionState, place: int, now: float, settings: AdmissionSettings) -> float:
    """A job far back comes back LEAD_HOLDS hold times before its estimated turn (sooner while H is unmeasured:
    the guess may be far off); from then on it polls (see GAP_FRACTION)."""
    hold = hold_estimate(state, settings)
    eta = slot_eta(state, place, now, settings)
    if state.hold_count < MEASURED_HOLDS:  # back within the guessed hold time, when the first ones were measured
        return min(UNMEASURED_FACTOR * eta, settings.initial_hold_seconds)
    lead = LEAD_HOLDS * hold
    if eta > lead:
        return eta - lead
    # Polling: not at the job's own estimate (an overdue slot says "soon" to every poller at once), but at the
    # period that keeps the idle gap at GAP_FRACTION * H given how many poll; sooner only if a token is all it needs.
    period = min(GAP_FRACTION * hold * settings.max_tasks_in_flight * LEAD_HOLDS, lead)
    return eta if len(state.holders) < settings.max_tasks_in_flight else period


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
        wanted = queue_delay(state, place, now, settings)
    wanted = wanted * rng.uniform(1 - JITTER, 1 + JITTER) + rng.uniform(0, JITTER_FLOOR_SECONDS)
    if reason == BREAKER_OPEN or state.open_until > now:
        # Every waiter comes back after the breaker closes, spread over the time the create rate needs anyway.
        spread = min(place, settings.max_tasks_in_flight) / settings.max_creates_per_second
        wanted = max(wanted, state.open_until - now + rng.uniform(0, spread))
    wanted = max(wanted, not_before)  # the vendor's Retry-After: a floor, never shortened by jitter
    # Never past the moment the job must be refused for waiting too long, so that it is refused on time.
    deadline = ticket.queued_at + settings.max_queue_wait_seconds - now + 1
    bounded = min(wanted, max(deadline, 0))
    return int(min(settings.max_recheck_seconds, max(settings.min_recheck_seconds, math.ceil(bounded))))
