"""The world bench/admission_sim.py simulates, on an event queue (simulated time, no threads).

S3 events wait in the start queue (SQS). The start function's event source mapping runs at most `concurrency`
invocations at a time, each with a batch of up to 10 visible messages, one message after another:
validate (first delivery only) -> try_admit -> SendInputs: upload, try_admit again | Admitted: create (upload
first if not done) -> mark_created, vendor_ok (the job's execution starts) | Wait: near the front, upload (once);
re-send the message with DelaySeconds, the ticket in it | Refused: error.json. Uploads happen once per job.
The mapping deletes the batch when the invocation ends. A task ends after its processing time; the Finalize path
releases the slot a little later. The vendor answers 429 above its running-task cap or its create rate, and during
an outage window. Every admission call is faceswap.admission's own code on a MemoryItem (bench/admission_memory).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.admission_memory import CallClock, MemoryItem
from faceswap.admission import (
    AdmissionControl,
    AdmissionRequest,
    AdmissionSettings,
    Admitted,
    QueueTicket,
    Refused,
    SendInputs,
    Wait,
)


@dataclass(frozen=True)
class Scenario:
    jobs: int
    cap: int  # the vendor's running-task cap, and faceswap:max_tasks_in_flight
    creates_per_second: float = 2.0  # faceswap:max_creates_per_second
    vendor_create_limit: int = 5  # the vendor's own: creates per second above this answer 429
    concurrency: int = 10  # the start function's MaximumConcurrency
    batch_size: int = 10
    credit_units: int | None = None  # the vendor balance (None: plenty, no credit check)
    outage: tuple[float, float] | None = None  # the vendor answers 429 to everything from..until (simulated s)
    max_queue_wait_seconds: float = 6 * 3600
    seed: int = 1


@dataclass(frozen=True)
class Timing:
    """Modelled durations (seconds) of the start flow's steps on AWS; the README lists them."""

    dynamodb: float = 0.006  # one request on the admission item
    sqs: float = 0.012  # SendMessage
    pickup: float = 0.1  # a visible message reaches a free invocation (long polling)
    per_message: float = 0.005
    validate: float = 0.15  # media header checks, first delivery only (S3 range GETs)
    upload: tuple[float, float] = (1.0, 3.0)  # both files to the File API, uniform
    create: float = 0.4
    after_create: float = 0.05  # mark_created, vendor_ok, StartExecution
    release: tuple[float, float] = (0.5, 2.0)  # task end -> webhook or poll -> Finalize releases, uniform
    retry_after: float = 10.0  # the vendor's Retry-After on a 429


@dataclass
class Job:
    id: str
    units: int
    processing: float
    ticket: QueueTicket | None = None
    first_delivery: bool = True
    uploaded: bool = False  # its inputs are at the vendor (sent ahead while near the front, or once admitted)
    deliveries: int = 0
    admitted_at: float | None = None
    created_at: float | None = None
    ended_at: float | None = None
    outcome: str = ""


def make_jobs(count: int, rng: random.Random) -> list[Job]:
    """Clips of 5-30 s: 1 unit per 5 s; vendor processing 10 s + 2.5 s per clip second (bench/cost_model), +-15 %."""
    jobs = []
    for index in range(count):
        clip = rng.uniform(5, 30)
        jobs.append(Job(f"job-{index:06d}", math.ceil(clip / 5), (10 + 2.5 * clip) * rng.lognormvariate(0, 0.15)))
    return jobs


class Vendor:
    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self.running = 0
        self.balance = scenario.credit_units if scenario.credit_units is not None else 10**12
        self.calls: Counter[str] = Counter()
        self._creates: list[float] = []  # create times, sorted: calls are stamped with their own clocks

    def busy(self, now: float) -> bool:
        """429 for this create: an outage, the running-task cap, or the create rate (the 1 s before `now`)."""
        out = self._scenario.outage
        in_window = bisect.bisect_right(self._creates, now) - bisect.bisect_right(self._creates, now - 1)
        return bool(out and out[0] <= now < out[1]) or self.running >= self._scenario.cap or (
            in_window >= self._scenario.vendor_create_limit)

    def start(self, now: float, units: int) -> None:
        bisect.insort(self._creates, now)
        self.running += 1
        self.balance -= units

    def credit(self) -> int:
        self.calls["credit"] += 1
        return self.balance


class World:
    def __init__(self, scenario: Scenario, settings: AdmissionSettings, timing: Timing = Timing()) -> None:
        self.scenario, self.settings, self.timing = scenario, settings, timing
        self.rng = random.Random(scenario.seed)
        self.jobs = make_jobs(scenario.jobs, self.rng)
        self.item = MemoryItem(latency=timing.dynamodb)
        self.vendor = Vendor(scenario)
        self.counts: Counter[str] = Counter()
        self.running_trace: list[tuple[float, int]] = [(0.0, 0)]
        self.holder_trace: list[tuple[float, int]] = [(0.0, 0)]
        self.now = 0.0
        self._events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._ready: deque[Job] = deque()
        self._idle = scenario.concurrency

    def run(self) -> World:
        self._ready.extend(self.jobs)  # N uploads at once: N messages visible at 0
        self._dispatch()
        while self._events:
            self.now, _, action, args = heapq.heappop(self._events)
            action(*args)
        return self

    # --- the queue and the event source mapping --------------------------------------------------------------
    def _at(self, when: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._events, (when, next(self._seq), action, args))

    def _dispatch(self) -> None:
        while self._idle and self._ready:
            batch = [self._ready.popleft() for _ in range(min(self.scenario.batch_size, len(self._ready)))]
            self._idle -= 1
            self.counts.update(sqs_receive=1, lambda_invocation=1)
            self._at(self.now + self.timing.pickup, self._process, batch, 0)

    def _visible(self, job: Job) -> None:
        self._ready.append(job)
        self._dispatch()

    def _process(self, batch: list[Job], index: int) -> None:
        if index == len(batch):
            self.counts["sqs_delete"] += 1  # DeleteMessageBatch for the invocation's messages
            self._idle += 1
            self._dispatch()
            return
        job = batch[index]
        job.deliveries += 1
        clock = CallClock(self.now + self.timing.per_message)
        if job.first_delivery:
            clock.spend(self.timing.validate)
            job.first_delivery = False
        control = self._control(clock, caller=id(batch))
        decision = control.try_admit(AdmissionRequest(job.id, job.units, job.ticket, inputs_sent=job.uploaded))
        if isinstance(decision, SendInputs):  # inputs first, then the slot
            clock.spend(self._upload(job))
            decision = control.try_admit(AdmissionRequest(job.id, job.units, job.ticket))
        if isinstance(decision, Admitted):
            job.admitted_at = clock.t
            self._trace_holders(clock.t)
            self._at(clock.t + self._upload(job), self._create, batch, index, control, clock)
            return
        if isinstance(decision, Wait):
            if decision.inputs_ahead:
                clock.spend(self._upload(job))
            self._requeue(job, decision, clock)
        else:
            assert isinstance(decision, Refused), decision  # inputs sent: no SendInputs again
            job.outcome = decision.code
            clock.spend(0.02)  # error.json
        self._at(clock.t, self._process, batch, index + 1)

    def _upload(self, job: Job) -> float:
        """Seconds to upload the job's inputs, once per job."""
        seconds = 0.0 if job.uploaded else self.rng.uniform(*self.timing.upload)
        job.uploaded = True
        return seconds

    def _create(self, batch: list[Job], index: int, control: AdmissionControl, clock: CallClock) -> None:
        job = batch[index]
        clock.t = self.now + self.timing.create
        if self.vendor.busy(clock.t):
            self.counts["vendor_429"] += 1
            wait = control.vendor_busy(AdmissionRequest(job.id, job.units, job.ticket), self.timing.retry_after)
            self._trace_holders(clock.t)
            self._requeue(job, wait, clock)
        elif self.vendor.balance < job.units:  # the vendor's CreditInsufficiency: nothing created, nothing spent
            control.release(job.id)
            job.outcome = "credit_insufficient_at_create"
        else:
            self.vendor.start(clock.t, job.units)
            job.created_at = clock.t
            self.running_trace.append((clock.t, self.vendor.running))
            control.mark_created(job.id)
            control.vendor_ok()
            clock.spend(self.timing.after_create)
            self._at(clock.t + job.processing, self._task_done, job)
        self._at(clock.t, self._process, batch, index + 1)

    def _requeue(self, job: Job, wait: Wait, clock: CallClock) -> None:
        job.ticket = wait.ticket
        clock.spend(self.timing.sqs)
        self.counts["sqs_send"] += 1
        self._at(clock.t + wait.delay_seconds, self._visible, job)

    # --- the job's end --------------------------------------------------------------------------------------
    def _task_done(self, job: Job) -> None:
        self.vendor.running -= 1
        self.running_trace.append((self.now, self.vendor.running))
        self._at(self.now + self.rng.uniform(*self.timing.release), self._release, job)

    def _release(self, job: Job) -> None:
        clock = CallClock(self.now)
        assert job.admitted_at is not None
        self._control(clock, caller=-1 - int(job.id[4:])).release(job.id, self.now - job.admitted_at)
        job.ended_at, job.outcome = clock.t, "succeeded"
        self._trace_holders(clock.t)

    def _control(self, clock: CallClock, caller: int) -> AdmissionControl:
        credit = self.vendor.credit if self.scenario.credit_units is not None else None
        return AdmissionControl(self.item.view(clock, caller), self.settings, clock, credit, self.rng, clock.spend)

    def _trace_holders(self, when: float) -> None:
        holders = len(self.item.state.holders) if self.item.state else 0
        assert holders <= self.settings.max_tasks_in_flight, f"{holders} slot holders at {when:.1f} s"
        self.holder_trace.append((when, holders))
