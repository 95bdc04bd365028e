"""Many starts at once on one item (threads on moto, each item operation atomic as on DynamoDB)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from faceswap.admission import (
    AdmissionControl,
    AdmissionRequest,
    AdmissionSettings,
    Admitted,
    DynamoAdmissionStore,
    Wait,
)
from tests.unit.admission.conftest import TABLE, Clock

pytestmark = pytest.mark.usefixtures("atomic_items")
SETTINGS = AdmissionSettings(max_tasks_in_flight=3, max_creates_per_second=100, create_burst=100)


def start(clock: Clock, job: str, settings: AdmissionSettings = SETTINGS, units: int = 1, credit: Any = None) -> Any:
    """One start function: its own client, its own controller (a short real pause after a lost race)."""
    store = DynamoAdmissionStore(boto3.resource("dynamodb").Table(TABLE))
    return AdmissionControl(store, settings, clock, credit, random.Random(job)).try_admit(
        AdmissionRequest(job, units))


def test_many_starts_at_once_never_exceed_the_cap(table: Any, store: DynamoAdmissionStore, clock: Clock) -> None:
    jobs = [f"job-{i}" for i in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        decisions = list(pool.map(lambda job: start(clock, job), jobs))
    admitted = [d.job_id for d in decisions if isinstance(d, Admitted)]
    state = store.read()
    assert state is not None
    assert len(admitted) == 3 and set(state.holders) == set(admitted)
    numbers = [d.ticket.number for d in decisions if isinstance(d, Wait) and d.ticket.number]
    assert sorted(numbers) == list(range(1, 22))  # every other job waits, each with a number of its own


def test_the_same_job_started_twice_at_once_holds_one_slot(table: Any, store: DynamoAdmissionStore,
                                                           clock: Clock) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(lambda _: start(clock, "same"), range(8)))
    assert all(isinstance(d, Admitted) for d in decisions)
    assert sum(not d.already_held for d in decisions) == 1
    state = store.read()
    assert state is not None and list(state.holders) == ["same"]


def test_releases_and_admissions_racing_keep_the_count_exact(table: Any, store: DynamoAdmissionStore,
                                                             clock: Clock) -> None:
    for job in ("a", "b", "c"):
        assert start(clock, job) == Admitted(job)

    def release(job: str) -> bool:
        return AdmissionControl(DynamoAdmissionStore(boto3.resource("dynamodb").Table(TABLE)), SETTINGS,
                                clock).release(job, 10.0)

    with ThreadPoolExecutor(max_workers=10) as pool:
        released = [pool.submit(release, job) for job in ("a", "b", "c", "a", "b")]
        decisions = list(pool.map(lambda i: start(clock, f"new-{i}"), range(10)))
    assert sum(f.result() for f in released) == 3  # each slot released once
    state = store.read()
    assert state is not None
    admitted = {d.job_id for d in decisions if isinstance(d, Admitted)}
    assert set(state.holders) == admitted | ({"a", "b", "c"} & set(state.holders))
    assert len(state.holders) <= 3
    assert state.hold_count == 3


def test_credit_reservations_hold_under_a_race(table: Any, store: DynamoAdmissionStore, clock: Clock) -> None:
    settings = AdmissionSettings(max_tasks_in_flight=20, max_creates_per_second=100, create_burst=100,
                                 credit_wait_seconds=0)
    with ThreadPoolExecutor(max_workers=10) as pool:
        decisions = list(pool.map(lambda i: start(clock, f"job-{i}", settings, units=3, credit=lambda: 10),
                                  range(10)))
    assert sum(isinstance(d, Admitted) for d in decisions) == 3  # 10 units pay for 3 jobs of 3, never 4
