"""The simulator's in-memory item answers every request as the DynamoDB item does (so the simulation runs the
admission code against the same semantics), and loses a race where DynamoDB would."""

from __future__ import annotations

import random
from typing import Any

from bench.admission_memory import CallClock, MemoryItem
from faceswap.admission import (
    AdmissionControl,
    AdmissionRequest,
    AdmissionSettings,
    AdmissionState,
    AdmissionStore,
    DynamoAdmissionStore,
    QueueTicket,
    Wait,
)
from tests.unit.admission.conftest import Clock

SETTINGS = AdmissionSettings(max_tasks_in_flight=3, max_creates_per_second=1, create_burst=2, breaker_threshold=2,
                             credit_wait_seconds=0, start_lease_seconds=100)


def scenario(store: AdmissionStore, clock: Clock) -> list[Any]:
    """Every kind of request: admissions, waits with numbers, created, released, reclaimed, breaker, credit."""
    c = AdmissionControl(store, SETTINGS, clock, lambda: 12, random.Random(7), sleep=lambda _: None)
    answers: list[Any] = [c.try_admit(AdmissionRequest(job, 2)) for job in ("a", "b", "c", "d")]
    clock.advance(1.5)
    answers += [c.try_admit(AdmissionRequest("c", 2)), c.mark_created("a"), c.mark_created("a"),
                c.release("b", 30.0), c.release("b", 30.0)]
    wait = answers[3]
    ticket = wait.ticket if isinstance(wait, Wait) else QueueTicket(0, clock.now)
    answers += [c.try_admit(AdmissionRequest("d", 2, ticket)), c.try_admit(AdmissionRequest("e", 9))]
    answers += [c.vendor_busy(AdmissionRequest("d", 2), 5.0), c.vendor_busy(AdmissionRequest("x", 1))]
    clock.advance(200)  # past c's start lease; the breaker closed
    answers += [c.try_admit(AdmissionRequest("f", 1, QueueTicket(1, clock.now))), c.vendor_ok(), c.vendor_ok()]
    return answers


def comparable(state: AdmissionState | None) -> Any:
    assert state is not None
    return {**state.__dict__, "holders": dict(state.holders)}


def test_the_memory_item_behaves_like_the_dynamodb_item(store: DynamoAdmissionStore) -> None:
    dynamo_clock, memory_clock = Clock(), Clock()
    item = MemoryItem(latency=0.0)
    memory = item.view(CallClock(0.0), caller=1)
    assert scenario(memory, memory_clock) == scenario(store, dynamo_clock)
    assert comparable(memory.read()) == comparable(store.read())


def test_a_write_between_read_and_write_loses_the_race() -> None:
    item = MemoryItem(latency=0.01)
    first, second = CallClock(100.0), CallClock(100.005)
    mine, theirs = item.view(first, caller=1), item.view(second, caller=2)
    base = AdmissionState.initial(100.0, 2)
    assert mine.write(base, 0) is True  # version 1
    read = mine.read()
    other = theirs.read()  # another start reads the same version, a little later...
    assert other is not None and theirs.write(other, 0) is True  # ...and writes it first (version 2)
    assert read is not None and mine.write(read, 0) is False  # their write landed between my read and my write
    assert item.counts["conflict"] == 1
