"""AdmissionControl: the interface the start function (and the Finalize/failure paths) use.

try_admit reads the item (strongly consistent), decides, and writes the new state under the version condition;
a lost race is retried a few times after a jittered pause. Everything else is one request without a read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from faceswap.admission.delays import recheck_delay
from faceswap.admission.model import (
    BREAKER_OPEN,
    CONTENTION,
    NO_SLOT,
    NO_TOKEN,
    VENDOR_BUSY,
    AdmissionRequest,
    AdmissionState,
    Decision,
    QueueTicket,
    Wait,
)
from faceswap.admission.policy import (
    CreditReading,
    PendingWait,
    breaker_open,
    credit_needs_reading,
    decide,
    inputs_ahead,
    record_vendor_busy,
    without_holder,
)
from faceswap.admission.settings import AdmissionSettings
from faceswap.admission.store import AdmissionStore

QUEUE_REASONS = (NO_SLOT, NO_TOKEN, BREAKER_OPEN)  # waits that number the job (its place in the queue)
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.02  # lost races: pause 0..base*2^attempt (capped) before reading again
BACKOFF_CAP_SECONDS = 0.5


class AdmissionControl:
    def __init__(self, store: AdmissionStore, settings: AdmissionSettings, clock: Callable[[], float],
                 credit_source: Callable[[], int] | None = None, rng: random.Random | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """`credit_source`: the vendor's spendable units (None: no credit check). It is called only when the
        cached balance is older than credit_cache_seconds and the breaker is closed; its errors propagate."""
        self._store = store
        self._settings = settings
        self._clock = clock
        self._credit_source = credit_source
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._last_seen: AdmissionState | None = None  # vendor_ok writes only if this showed vendor failures

    def try_admit(self, request: AdmissionRequest) -> Decision:
        reading: CreditReading | None = None
        for attempt in range(MAX_ATTEMPTS):
            state, now = self._read()
            if reading is None and self._wants_credit(state, now):
                reading = self._read_credit(now)
            step = decide(state, request, now, self._settings, reading)
            if step.write and not self._store.write(step.state, step.served_delta):
                self._back_off(attempt)
                continue
            if step.served_delta and not step.write:
                self._store.leave_queue()  # a numbered job refused: it leaves the queue count
            if isinstance(step.decision, PendingWait):
                return self._wait(step.state, step.decision.reason, step.decision.ticket, now, request.units)
            return step.decision
        ticket = request.ticket or QueueTicket(0, self._clock())
        return Wait(CONTENTION, self._delay(state, CONTENTION, ticket, self._clock()), ticket)

    def mark_created(self, job_id: str) -> bool:
        """The vendor task exists: the slot's lease lasts the run now, and its units count as charged."""
        now = self._clock()
        return self._store.mark_created(job_id, now, now + self._settings.run_lease_seconds)

    def release(self, job_id: str, held_seconds: float | None = None) -> bool:
        """The job ended (or gave its slot back): idempotent. `held_seconds`, admission to release, feeds the
        hold-time estimate; pass None when no task ran (it would not be a hold time)."""
        return self._store.release(job_id, held_seconds)

    def vendor_busy(self, request: AdmissionRequest, retry_after: float | None = None) -> Wait:
        """The vendor answered 429 or timed out for this job before its task existed: count it towards the
        breaker, free the job's slot, and send the job back to the queue (a new number) after Retry-After."""
        for attempt in range(MAX_ATTEMPTS):
            state, now = self._read()
            failed = record_vendor_busy(without_holder(state, request.job_id), now, retry_after, self._settings)
            if self._store.write(failed, 0):
                break
            self._back_off(attempt)
        else:  # the breaker missed this failure, but the slot must not wait for its lease
            self._store.release(request.job_id, None)
        ticket = QueueTicket(self._store.take_ticket(), request.ticket.queued_at if request.ticket else now)
        delay = self._delay(failed, VENDOR_BUSY, ticket, now, not_before=retry_after or 0.0)
        return Wait(VENDOR_BUSY, delay, ticket)

    def vendor_ok(self) -> bool:
        """The vendor accepted a call: reset the breaker, only if the state last read here counted failures
        (no request otherwise; another job may have reset it meanwhile, then the condition fails harmlessly)."""
        if self._last_seen is None or self._last_seen.breaker_failures == 0:
            return False
        reset = self._store.reset_breaker()
        self._last_seen = replace(self._last_seen, breaker_failures=0)
        return reset

    # --- helpers -------------------------------------------------------------------------------------------
    def _read(self) -> tuple[AdmissionState, float]:
        stored = self._store.read()
        now = self._clock()
        if stored is None or stored.version == 0:  # no versioned write yet: a full bucket, the counters as found
            base = AdmissionState.initial(now, self._settings.create_burst)
            stored = replace(base, next_ticket=stored.next_ticket if stored else 0,
                             served=stored.served if stored else 0)
        self._last_seen = stored
        return stored, now

    def _wants_credit(self, state: AdmissionState, now: float) -> bool:
        return (self._credit_source is not None and not breaker_open(state, now)
                and credit_needs_reading(state, now, self._settings))

    def _read_credit(self, now: float) -> CreditReading:
        assert self._credit_source is not None
        return CreditReading(int(self._credit_source()), now)  # `now` was taken before the call: conservative

    def _wait(self, state: AdmissionState, reason: str, ticket: QueueTicket, now: float, units: int) -> Wait:
        if reason in QUEUE_REASONS and ticket.number == 0:
            ticket = replace(ticket, number=self._store.take_ticket())
        # Not while the breaker is open or credit is short: the vendor is pushing back, or the job may never run.
        ahead = reason in (NO_SLOT, NO_TOKEN) and inputs_ahead(state, ticket, units, self._settings)
        return Wait(reason, self._delay(state, reason, ticket, now), ticket, inputs_ahead=ahead)

    def _delay(self, state: AdmissionState, reason: str, ticket: QueueTicket, now: float,
               not_before: float = 0.0) -> int:
        return recheck_delay(state, reason, ticket, now, self._settings, self._rng, not_before)

    def _back_off(self, attempt: int) -> None:
        self._sleep(self._rng.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** attempt)))
