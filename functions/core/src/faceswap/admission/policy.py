"""The admission decisions as pure functions of (state, request, now, settings): no I/O, no clock, no randomness.

`decide` answers one try_admit: Admitted, Refused, or a PendingWait whose delay `delays.recheck_delay` computes
once the job has its queue number. It returns the state to write (None: nothing changed, no write needed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from faceswap.admission.model import (
    BREAKER_OPEN,
    CREDIT_INSUFFICIENT,
    CREDIT_SHORT,
    NO_SLOT,
    NO_TOKEN,
    QUEUE_WAIT_EXCEEDED,
    AdmissionRequest,
    AdmissionState,
    Admitted,
    Holder,
    Holders,
    QueueTicket,
    Refused,
    SendInputs,
)
from faceswap.admission.settings import AdmissionSettings

HOLD_WINDOW = 200  # releases the hold-time mean remembers (older ones weigh half once this many are counted)
CREDIT_CLOCK_SKEW_SECONDS = 2.0  # Lambda clocks differ a little: a task created this close to a read counts as new
STARTER_ROUNDS = 2  # see credit_ample
STALL_HOLDS = 0.25  # numbered jobs that left free slots unclaimed this many hold times have stalled (queue_stalled)


@dataclass(frozen=True)
class CreditReading:
    balance: int  # spendable units
    read_at: float  # taken just before the vendor was asked: everything charged before it is in `balance`


@dataclass(frozen=True)
class PendingWait:
    reason: str
    ticket: QueueTicket


@dataclass(frozen=True)
class Step:
    decision: Admitted | SendInputs | Refused | PendingWait
    state: AdmissionState  # as decided on (the read state plus reclaimed leases, refreshed credit...)
    write: bool  # state differs from the stored item and must be written (under the version condition)
    served_delta: int = 0  # 1 when a numbered job leaves the queue


def decide(state: AdmissionState, request: AdmissionRequest, now: float, settings: AdmissionSettings,
           reading: CreditReading | None = None) -> Step:
    current, changed = reclaim_expired(state, now)
    if reading is not None:
        current, changed = apply_reading(current, reading), True
    held = current.holders.get(request.job_id)
    if held is not None:  # a retried start keeps its slot, with a fresh start lease while no task exists
        renewed = _renew_start_lease(current, request.job_id, held, now, settings)
        return Step(Admitted(request.job_id, already_held=True), renewed or current, changed or renewed is not None)
    ticket = request.ticket or QueueTicket(0, now)
    blocked = _blocked(current, request, ticket, now, settings)
    if blocked is not None:
        return Step(blocked, current, changed, served_delta=_leaves(blocked, ticket))
    if not request.inputs_sent and credit_ample(current, request.units, settings):
        return Step(SendInputs(request.job_id), current, changed)
    admitted = admit(current, request.job_id, request.units, now, settings)
    if ticket.number:
        admitted = replace(admitted, served_at=now)
    return Step(Admitted(request.job_id), admitted, True, served_delta=1 if ticket.number else 0)


def _blocked(state: AdmissionState, request: AdmissionRequest, ticket: QueueTicket, now: float,
             settings: AdmissionSettings) -> Refused | PendingWait | None:
    """Why the job cannot take a slot now (in the order it is checked), or None when it can."""
    if breaker_open(state, now):
        return _wait(BREAKER_OPEN, ticket, now, settings)
    if credit_short(state, request.units):
        since = ticket.credit_short_since if ticket.credit_short_since is not None else now
        if now - since >= settings.credit_wait_seconds:
            return _credit_refusal(request.units, available_units(state), settings)
        return _wait(CREDIT_SHORT, replace(ticket, credit_short_since=since), now, settings)
    ticket = replace(ticket, credit_short_since=None)
    free = settings.max_tasks_in_flight - len(state.holders)
    # A job that never waited does not jump the queue: it takes a free slot only when there is one for every
    # numbered job as well, or when the numbered jobs have not claimed one for a while (they are not coming yet).
    # A numbered job takes any free slot (work-conserving, whatever its place).
    if free <= 0 or (ticket.number == 0 and queued(state) >= free and not queue_stalled(state, now, settings)):
        return _wait(NO_SLOT, ticket, now, settings)
    if tokens_at(state, now, settings) < 1:
        return _wait(NO_TOKEN, ticket, now, settings)
    return None


def _wait(reason: str, ticket: QueueTicket, now: float, settings: AdmissionSettings) -> Refused | PendingWait:
    waited = now - ticket.queued_at
    if waited >= settings.max_queue_wait_seconds:
        return Refused(QUEUE_WAIT_EXCEEDED,
                       f"The job waited {waited / 60:.0f} minutes for the vendor (longest allowed: "
                       f"{settings.max_queue_wait_seconds / 60:.0f} minutes, last reason: {reason}).",
                       "Upload fewer jobs at once or re-run it later; raise faceswap:max_tasks_in_flight if the "
                       "vendor allows more running tasks, or faceswap:max_queue_wait_minutes to wait longer.")
    return PendingWait(reason, ticket)


def _credit_refusal(units: int, available: int, settings: AdmissionSettings) -> Refused:
    waited = f" after waiting {settings.credit_wait_seconds / 60:.0f} minutes" if settings.credit_wait_seconds else ""
    return Refused(CREDIT_INSUFFICIENT,
                   f"The job needs {units} units; {max(available, 0)} are left once the running jobs are paid"
                   f"{waited}. Nothing was uploaded and no units were spent.",
                   "Buy more units in the YouCam console, then re-run the job with a new \"run\" number.")


def _leaves(decision: Refused | PendingWait, ticket: QueueTicket) -> int:
    return 1 if isinstance(decision, Refused) and ticket.number else 0


def admit(state: AdmissionState, job_id: str, units: int, now: float, settings: AdmissionSettings) -> AdmissionState:
    holders = state.holders.with_holder(job_id, Holder(units, now, now + settings.start_lease_seconds))
    hold_sum, hold_count = state.hold_sum, state.hold_count
    if hold_count > 2 * HOLD_WINDOW:
        hold_sum, hold_count = hold_sum / 2, hold_count / 2
    return replace(state, holders=holders, tokens=tokens_at(state, now, settings) - 1, tokens_at=now,
                   hold_sum=hold_sum, hold_count=hold_count)


def _renew_start_lease(state: AdmissionState, job_id: str, held: Holder, now: float,
                       settings: AdmissionSettings) -> AdmissionState | None:
    lease = now + settings.start_lease_seconds
    if held.created_at is not None or held.lease_until >= lease - 1:
        return None
    return replace(state, holders=state.holders.with_holder(job_id, replace(held, lease_until=lease)))


def reclaim_expired(state: AdmissionState, now: float) -> tuple[AdmissionState, bool]:
    """Holders whose lease passed (their job vanished: a crash, a lost release) give their slot back."""
    if state.holders.earliest_lease > now:
        return state, False
    return replace(state, holders=Holders({job: h for job, h in state.holders.items() if h.lease_until > now})), True


# --- token bucket, queue, breaker, credit ------------------------------------------------------------------
def tokens_at(state: AdmissionState, now: float, settings: AdmissionSettings) -> float:
    refill = max(0.0, now - state.tokens_at) * settings.max_creates_per_second
    return min(settings.create_burst, state.tokens + refill)


def queue_stalled(state: AdmissionState, now: float, settings: AdmissionSettings) -> bool:
    """No numbered job took a slot for a while (or ever): they are not coming yet (their re-sent messages are behind
    first deliveries), so a free slot may go to whoever asks. "A while": a quarter of a hold time, at most 30 s."""
    patience = min(settings.queue_stall_seconds, STALL_HOLDS * hold_estimate(state, settings))
    return not state.served_at or now - state.served_at >= patience


def queued(state: AdmissionState) -> int:
    """Numbered jobs still waiting (an estimate: a job lost without a refusal stays counted)."""
    return max(0, state.next_ticket - state.served)


def position(state: AdmissionState, ticket: QueueTicket) -> int:
    """1 = next in line. A job without a number counts as behind every numbered one."""
    if ticket.number == 0:
        return queued(state) + 1
    return max(1, ticket.number - state.served)


def inputs_ahead(state: AdmissionState, ticket: QueueTicket, units: int, settings: AdmissionSettings) -> bool:
    """A waiting job may send its inputs to the vendor now: it is in the next round (a slot within about one hold
    time) and credit is ample."""
    return position(state, ticket) <= settings.max_tasks_in_flight and credit_ample(state, units, settings)


def credit_ample(state: AdmissionState, units: int, settings: AdmissionSettings) -> bool:
    """The balance (if checked) pays for every waiting job and two rounds of starters besides (the start function
    runs at most max_tasks_in_flight at once), each taken to cost as much as this one: a job whose inputs go to the
    vendor before it holds a slot (which would reserve its units) will not be refused for credit because of the
    others. Otherwise it takes its slot first and uploads after, as before."""
    return state.credit_balance is None or available_units(state) >= units * (
        queued(state) + STARTER_ROUNDS * settings.max_tasks_in_flight)


def hold_estimate(state: AdmissionState, settings: AdmissionSettings) -> float:
    return state.hold_sum / state.hold_count if state.hold_count >= 1 else settings.initial_hold_seconds


def breaker_open(state: AdmissionState, now: float) -> bool:
    return state.open_until > now


def record_vendor_busy(state: AdmissionState, now: float, retry_after: float | None,
                       settings: AdmissionSettings) -> AdmissionState:
    """One more consecutive 429/timeout. At the threshold the breaker opens (backoff doubling with each opening
    since the last success), for at least the vendor's Retry-After; while open, a 429 only extends it to that."""
    failures = state.breaker_failures + 1
    honour = now + (retry_after or 0.0)
    if breaker_open(state, now):
        return replace(state, breaker_failures=failures, open_until=max(state.open_until, honour))
    if failures < settings.breaker_threshold:
        return replace(state, breaker_failures=failures)
    backoff = min(settings.breaker_max_backoff_seconds, settings.breaker_backoff_seconds * 2 ** state.breaker_openings)
    return replace(state, breaker_failures=failures, breaker_openings=state.breaker_openings + 1,
                   open_until=max(now + backoff, honour))


def without_holder(state: AdmissionState, job_id: str) -> AdmissionState:
    return replace(state, holders=state.holders.without(job_id))


def credit_needs_reading(state: AdmissionState, now: float, settings: AdmissionSettings) -> bool:
    return state.credit_balance is None or now - state.credit_read_at >= settings.credit_cache_seconds


def apply_reading(state: AdmissionState, reading: CreditReading) -> AdmissionState:
    """A fresh balance already has every task created before it was read deducted; tasks created since (or too
    close to call) still count as charged, and holders without a task as reserved (see available_units)."""
    since = reading.read_at - CREDIT_CLOCK_SKEW_SECONDS
    charged = sum(h.units for h in state.holders.values() if h.created_at is not None and h.created_at >= since)
    return replace(state, credit_balance=reading.balance, credit_read_at=reading.read_at, charged=charged)


def available_units(state: AdmissionState) -> int:
    """The cached balance less the units charged since it was read and those reserved by admitted jobs whose
    task does not exist yet (the vendor deducts at create: an assumption, see the package docstring)."""
    return (state.credit_balance or 0) - state.charged - state.holders.reserved_units


def credit_short(state: AdmissionState, units: int) -> bool:
    return state.credit_balance is not None and available_units(state) < units
