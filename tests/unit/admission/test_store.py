"""AdmissionControl on the DynamoDB item (moto in process): what the start function and the release paths see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faceswap.admission import (
    BREAKER_OPEN,
    CREDIT_INSUFFICIENT,
    CREDIT_SHORT,
    NO_SLOT,
    VENDOR_BUSY,
    AdmissionControl,
    AdmissionRequest,
    AdmissionSettings,
    Admitted,
    DynamoAdmissionStore,
    Refused,
    SendInputs,
    Wait,
)
from tests.unit.admission.conftest import Clock

SETTINGS = AdmissionSettings(max_tasks_in_flight=2, max_creates_per_second=10, create_burst=10, breaker_threshold=2,
                             breaker_backoff_seconds=30, credit_wait_seconds=0, start_lease_seconds=60,
                             run_lease_seconds=3600)


def control(store: DynamoAdmissionStore, clock: Clock, credit: Any = None,
            settings: AdmissionSettings = SETTINGS) -> AdmissionControl:
    return AdmissionControl(store, settings, clock, credit, sleep=lambda _: None)


@contextmanager
def dynamodb_calls(table: Any) -> Iterator[list[str]]:
    """The DynamoDB operations sent while inside (botocore's before-call event, on the table's client)."""
    calls: list[str] = []
    events = table.meta.client.meta.events

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events.register("before-call.dynamodb", record)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", record)


def admit(c: AdmissionControl, job: str, units: int = 1) -> Any:
    return c.try_admit(AdmissionRequest(job, units))


def test_admits_up_to_the_cap_then_numbers_the_waiters(store: DynamoAdmissionStore, clock: Clock) -> None:
    c = control(store, clock)
    assert [admit(c, j) for j in ("a", "b")] == [Admitted("a"), Admitted("b")]
    waits = [admit(c, j) for j in ("c", "d")]
    assert all(isinstance(w, Wait) and w.reason == NO_SLOT for w in waits)
    assert [w.ticket.number for w in waits] == [1, 2]
    state = store.read()
    assert state is not None and set(state.holders) == {"a", "b"} and state.next_ticket == 2


def test_only_the_next_round_of_waiters_is_told_to_send_its_inputs_ahead(store: DynamoAdmissionStore,
                                                                         clock: Clock) -> None:
    c = control(store, clock)
    admit(c, "a")
    admit(c, "b")
    waits = [admit(c, j) for j in ("c", "d", "e")]  # places 1, 2, 3 behind a cap of 2
    assert [w.inputs_ahead for w in waits] == [True, True, False]
    c.vendor_busy(AdmissionRequest("x", 1), retry_after=None)
    c.vendor_busy(AdmissionRequest("y", 1), retry_after=None)  # the breaker opens: the vendor is pushing back
    held_back = c.try_admit(AdmissionRequest("c", 1, waits[0].ticket))
    assert isinstance(held_back, Wait) and held_back.reason == BREAKER_OPEN and not held_back.inputs_ahead


def test_a_job_whose_inputs_are_not_sent_is_told_to_send_them_and_takes_nothing(table: Any,
                                                                                store: DynamoAdmissionStore,
                                                                                clock: Clock) -> None:
    c = control(store, clock, credit=lambda: 10)
    first = c.try_admit(AdmissionRequest("a", 1, inputs_sent=False))
    assert first == SendInputs("a")  # the balance was read before (credit before any upload); no slot, no token
    state = store.read()
    assert state is not None and not state.holders and state.credit_balance == 10
    assert state.tokens == SETTINGS.create_burst
    assert c.try_admit(AdmissionRequest("a", 1)) == Admitted("a")  # asked again once the inputs are sent
    admit(c, "b")
    wait = c.try_admit(AdmissionRequest("c", 1, inputs_sent=False))
    assert isinstance(wait, Wait) and wait.reason == NO_SLOT  # no slot: it waits (and is numbered) as any job


def test_a_retried_start_keeps_its_slot(store: DynamoAdmissionStore, clock: Clock) -> None:
    c = control(store, clock)
    admit(c, "a")
    admit(c, "b")
    assert admit(c, "a") == Admitted("a", already_held=True)
    state = store.read()
    assert state is not None and len(state.holders) == 2


def test_release_frees_the_slot_once_with_one_conditional_update(table: Any, store: DynamoAdmissionStore,
                                                                  clock: Clock) -> None:
    c = control(store, clock)
    admit(c, "a")
    admit(c, "b")
    waiting = admit(c, "c")
    assert isinstance(waiting, Wait)
    with dynamodb_calls(table) as calls:
        assert c.release("a", held_seconds=42.0) is True
        assert c.release("a", held_seconds=42.0) is False  # idempotent: the second finds no holder
    assert calls == ["UpdateItem", "UpdateItem"]
    state = store.read()
    assert state is not None and (state.hold_sum, state.hold_count) == (42.0, 1.0)
    assert c.try_admit(AdmissionRequest("c", 1, waiting.ticket)) == Admitted("c")


def test_an_expired_lease_is_reclaimed_by_the_next_admission(store: DynamoAdmissionStore, clock: Clock) -> None:
    c = control(store, clock)
    admit(c, "a")
    admit(c, "crashed")
    assert c.mark_created("a") is True  # a's lease now lasts the run
    clock.advance(61)  # past the start lease: the crashed start never created its task, nor released
    assert admit(c, "c") == Admitted("c")
    state = store.read()
    assert state is not None and set(state.holders) == {"a", "c"}


def test_mark_created_charges_once(store: DynamoAdmissionStore, clock: Clock) -> None:
    c = control(store, clock, credit=lambda: 10)
    admit(c, "a", units=3)
    assert c.mark_created("a") is True and c.mark_created("a") is False
    assert c.mark_created("unknown") is False
    state = store.read()
    assert state is not None and state.charged == 3 and state.holders["a"].lease_until == clock.now + 3600


def test_credit_is_read_once_per_cache_period_and_reserved_for_admitted_jobs(store: DynamoAdmissionStore,
                                                                             clock: Clock) -> None:
    reads: list[int] = []

    def balance() -> int:
        reads.append(1)
        return 5

    c = control(store, clock, credit=balance, settings=SETTINGS.__class__(**{**SETTINGS.__dict__,
                                                                              "max_tasks_in_flight": 5}))
    assert admit(c, "a", units=2) == Admitted("a")
    assert admit(c, "b", units=2) == Admitted("b")
    refused = admit(c, "c", units=2)  # 5 - 2 - 2 = 1 unit left: refused at once (credit_wait 0), nothing spent
    assert isinstance(refused, Refused) and refused.code == CREDIT_INSUFFICIENT
    assert len(reads) == 1
    c.mark_created("a")
    c.release("b")  # b failed before its task existed: its reservation goes
    assert admit(c, "c", units=2) == Admitted("c")
    clock.advance(SETTINGS.credit_cache_seconds)
    assert admit(c, "d", units=1) == Admitted("d")  # a fresh read: 5 (a already deducted) - 2 (c) = 3
    assert len(reads) == 2


def test_credit_short_waits_when_the_policy_says_wait(store: DynamoAdmissionStore, clock: Clock) -> None:
    settings = SETTINGS.__class__(**{**SETTINGS.__dict__, "credit_wait_seconds": 600})
    c = control(store, clock, credit=lambda: 1, settings=settings)
    wait = admit(c, "a", units=2)
    assert isinstance(wait, Wait) and wait.reason == CREDIT_SHORT and wait.ticket.credit_short_since == clock.now
    clock.advance(600)
    refused = c.try_admit(AdmissionRequest("a", 2, wait.ticket))
    assert isinstance(refused, Refused) and refused.code == CREDIT_INSUFFICIENT


def test_the_breaker_holds_every_start_back_until_it_closes(table: Any, store: DynamoAdmissionStore,
                                                            clock: Clock) -> None:
    c = control(store, clock)
    admit(c, "a")
    first = c.vendor_busy(AdmissionRequest("a", 1), retry_after=5)
    assert first.reason == VENDOR_BUSY and first.delay_seconds >= 5
    state = store.read()
    assert state is not None and "a" not in state.holders  # the 429'd job gave its slot back
    c.vendor_busy(AdmissionRequest("x", 1), retry_after=None)  # the threshold: open for 30 s
    held_back = admit(c, "b")
    assert isinstance(held_back, Wait) and held_back.reason == BREAKER_OPEN and held_back.delay_seconds >= 30
    clock.advance(31)
    assert c.try_admit(AdmissionRequest("b", 1, held_back.ticket)) == Admitted("b")
    assert c.vendor_ok() is True  # the breaker had failures: reset (one write)
    with dynamodb_calls(table) as calls:
        assert c.vendor_ok() is False  # nothing to reset: no request at all
    assert calls == []
    state = store.read()
    assert state is not None and state.breaker_failures == 0 and state.open_until == 0


def test_a_lost_race_is_retried_with_the_item_as_it_is_now(store: DynamoAdmissionStore, clock: Clock) -> None:
    c = control(store, clock)
    admit(c, "a")

    class Racing:
        """Another start admits `b` between this one's read and its write, once."""

        def __init__(self) -> None:
            self.raced = False

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def write(self, state: Any, served_delta: int) -> bool:
            if not self.raced:
                self.raced = True
                admit(control(store, clock), "b")
            return store.write(state, served_delta)

    racing = AdmissionControl(Racing(), SETTINGS, clock, sleep=lambda _: None)
    assert isinstance(racing.try_admit(AdmissionRequest("c", 1)), Wait)  # the retry sees the slot b took
    state = store.read()
    assert state is not None and set(state.holders) == {"a", "b"}


def test_a_ticket_taken_before_the_first_write_leaves_a_usable_item(store: DynamoAdmissionStore,
                                                                    clock: Clock) -> None:
    assert store.take_ticket() == 1  # the item holds only the counter now
    assert admit(control(store, clock), "a") == Admitted("a")  # 2 free slots > 1 waiting
    state = store.read()
    assert state is not None and (state.version, state.next_ticket, set(state.holders)) == (1, 1, {"a"})
