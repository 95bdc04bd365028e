"""The pure decisions: state in, decision and state out (no store, no clock)."""

from __future__ import annotations

from dataclasses import replace

from faceswap.admission import (
    BREAKER_OPEN,
    CREDIT_INSUFFICIENT,
    CREDIT_SHORT,
    NO_SLOT,
    NO_TOKEN,
    QUEUE_WAIT_EXCEEDED,
    AdmissionRequest,
    AdmissionSettings,
    AdmissionState,
    Admitted,
    Holder,
    Holders,
    QueueTicket,
    Refused,
    SendInputs,
)
from faceswap.admission.policy import (
    CreditReading,
    PendingWait,
    Step,
    apply_reading,
    available_units,
    decide,
    inputs_ahead,
    record_vendor_busy,
    tokens_at,
)

NOW = 10_000.0
S = AdmissionSettings(max_tasks_in_flight=3, max_creates_per_second=1, create_burst=2, credit_wait_seconds=600,
                      max_queue_wait_seconds=3600, breaker_threshold=2, breaker_backoff_seconds=30,
                      breaker_max_backoff_seconds=100)


def fresh(**changes: object) -> AdmissionState:
    return replace(AdmissionState.initial(NOW, S.create_burst), **changes)  # type: ignore[arg-type]


def holding(*jobs: str, at: float = NOW - 100, lease: float = NOW + 500, created: float | None = None,
            units: int = 2) -> Holders:
    return Holders({job: Holder(units, at, lease, created) for job in jobs})


def ask(state: AdmissionState, job: str = "j", units: int = 2, ticket: QueueTicket | None = None, now: float = NOW,
        settings: AdmissionSettings = S, reading: CreditReading | None = None) -> Step:
    return decide(state, AdmissionRequest(job, units, ticket), now, settings, reading)


def reason(step: Step) -> str:
    assert isinstance(step.decision, PendingWait), step.decision
    return step.decision.reason


def test_a_free_slot_and_a_token_admit_and_take_both() -> None:
    step = ask(fresh())
    assert step.decision == Admitted("j") and step.write
    assert step.state.holders["j"] == Holder(2, NOW, NOW + S.start_lease_seconds)
    assert tokens_at(step.state, NOW, S) == 1


def test_never_more_holders_than_slots() -> None:
    state = fresh(tokens=100.0, holders=holding("a", "b", "c"))
    step = ask(state, ticket=QueueTicket(5, NOW - 10))
    assert reason(step) == NO_SLOT and not step.write


def test_a_retried_start_keeps_its_slot_and_gets_a_fresh_start_lease() -> None:
    state = fresh(holders=holding("a", "b", "j", lease=NOW + 5))
    step = ask(state)
    assert step.decision == Admitted("j", already_held=True) and step.write
    assert step.state.holders["j"].lease_until == NOW + S.start_lease_seconds
    created = fresh(holders=holding("j", created=NOW - 50, lease=NOW + 5))
    assert ask(created).decision == Admitted("j", already_held=True) and not ask(created).write  # its run lease


def test_the_token_bucket_limits_the_create_rate() -> None:
    state = fresh(tokens=0.5, tokens_at=NOW)
    assert reason(ask(state)) == NO_TOKEN
    assert ask(state, now=NOW + 0.5).decision == Admitted("j")  # refilled at 1 token/s
    assert tokens_at(fresh(tokens=0.0, tokens_at=NOW - 3600), NOW, S) == S.create_burst  # never above the burst


def test_a_job_that_never_waited_does_not_jump_the_queue() -> None:
    # One slot free, two numbered jobs waiting, the last of them admitted a second ago: the queue is moving.
    waiting = fresh(holders=holding("a", "b"), next_ticket=4, served=2, served_at=NOW - 1)
    assert reason(ask(waiting)) == NO_SLOT
    assert ask(waiting, ticket=QueueTicket(4, NOW - 60)).decision == Admitted("j")  # a numbered one takes it
    step = ask(waiting, ticket=QueueTicket(3, NOW - 60))
    assert step.served_delta == 1 and step.state.served_at == NOW  # and leaves the queue count
    moving = replace(waiting, next_ticket=3)
    assert ask(replace(moving, holders=holding("a"))).decision == Admitted("j")  # 2 free > 1 waiting


def test_free_slots_the_numbered_jobs_leave_unclaimed_go_to_whoever_asks() -> None:
    """A burst's first deliveries come before the numbered jobs' re-sent messages: slots must not idle meanwhile."""
    stalled = fresh(holders=holding("a"), next_ticket=50, served=0, served_at=NOW - S.queue_stall_seconds)
    step = ask(stalled)
    assert step.decision == Admitted("j") and step.served_delta == 0 and step.state.served_at == stalled.served_at
    never_served = fresh(next_ticket=50, served=0)
    assert ask(never_served).decision == Admitted("j")
    assert reason(ask(replace(stalled, served_at=NOW - S.queue_stall_seconds + 1))) == NO_SLOT
    # With short tasks the numbered jobs have stalled sooner: after a quarter of the measured hold time (20 s).
    short_holds = replace(stalled, hold_sum=200.0, hold_count=10.0)
    assert ask(replace(short_holds, served_at=NOW - 5)).decision == Admitted("j")
    assert reason(ask(replace(short_holds, served_at=NOW - 4))) == NO_SLOT


def test_an_expired_lease_frees_its_slot() -> None:
    state = fresh(holders=Holders({**holding("a", "b"), **holding("gone", lease=NOW - 1)}))
    step = ask(state, ticket=QueueTicket(1, NOW))
    assert step.decision == Admitted("j") and "gone" not in step.state.holders


def test_an_expired_lease_is_reclaimed_even_when_the_job_waits() -> None:
    state = fresh(tokens=0.0, holders=holding("gone", lease=NOW - 1))
    step = ask(state)
    assert reason(step) == NO_TOKEN and step.write and not step.state.holders


def test_the_breaker_opens_at_the_threshold_and_doubles_its_backoff() -> None:
    once = record_vendor_busy(fresh(), NOW, None, S)
    assert once.open_until == 0 and once.breaker_failures == 1
    opened = record_vendor_busy(once, NOW, None, S)
    assert opened.open_until == NOW + 30 and opened.breaker_openings == 1
    assert reason(ask(opened, ticket=QueueTicket(1, NOW))) == BREAKER_OPEN
    while_open = record_vendor_busy(opened, NOW + 1, 60, S)  # Retry-After honoured, no new opening
    assert while_open.open_until == NOW + 61 and while_open.breaker_openings == 1
    reopened = record_vendor_busy(while_open, NOW + 70, None, S)  # half open: one more failure reopens, longer
    assert reopened.open_until == NOW + 70 + 60
    assert record_vendor_busy(replace(reopened, breaker_openings=9), NOW + 200, None, S).open_until == NOW + 300


def test_credit_reserves_units_of_admitted_jobs_and_refuses_when_none_are_left() -> None:
    state = apply_reading(fresh(holders=holding("a", "b", lease=NOW + 5000)), CreditReading(balance=7, read_at=NOW))
    assert available_units(state) == 3  # two admitted jobs without a task reserve 2 units each
    assert ask(state, units=3).decision == Admitted("j")
    short = ask(state, units=4)
    assert reason(short) == CREDIT_SHORT and isinstance(short.decision, PendingWait)
    assert short.decision.ticket.credit_short_since == NOW
    later = ask(state, units=4, ticket=short.decision.ticket, now=NOW + 600)
    assert isinstance(later.decision, Refused) and later.decision.code == CREDIT_INSUFFICIENT
    assert "no units were spent" in later.decision.message


def test_with_no_credit_wait_a_job_that_cannot_be_paid_is_refused_at_once() -> None:
    state = apply_reading(fresh(), CreditReading(balance=1, read_at=NOW))
    step = ask(state, units=2, settings=replace(S, credit_wait_seconds=0))
    assert isinstance(step.decision, Refused) and step.decision.code == CREDIT_INSUFFICIENT


def test_a_fresh_balance_counts_only_tasks_created_since_it_was_read() -> None:
    holders = Holders({"old": Holder(5, NOW - 300, NOW + 900, created_at=NOW - 200),
                       "new": Holder(3, NOW - 30, NOW + 900, created_at=NOW - 1),
                       "uploading": Holder(2, NOW - 5, NOW + 600)})
    state = apply_reading(fresh(holders=holders), CreditReading(balance=20, read_at=NOW))
    assert state.charged == 3  # "old" is in the balance already; "new" may not be
    assert available_units(state) == 20 - 3 - 2


def test_a_job_that_waited_too_long_is_refused_with_its_own_code() -> None:
    state = fresh(holders=holding("a", "b", "c"))
    step = ask(state, ticket=QueueTicket(7, NOW - 3600))
    assert isinstance(step.decision, Refused) and step.decision.code == QUEUE_WAIT_EXCEEDED
    assert step.served_delta == 1
    assert "max_queue_wait_minutes" in step.decision.what_to_fix
    assert step.decision.report().code == QUEUE_WAIT_EXCEEDED
    # ...but one that can go now goes, however long it waited
    assert ask(fresh(), ticket=QueueTicket(7, NOW - 7200)).decision == Admitted("j")


def test_inputs_go_ahead_only_for_the_next_round_and_only_while_credit_is_ample() -> None:
    queue = fresh(next_ticket=10, served=4)  # six numbered jobs waiting: tickets 5..10 at places 1..6
    assert [inputs_ahead(queue, QueueTicket(n, NOW), 1, S) for n in (5, 7, 8)] == [True, True, False]  # cap 3
    assert not inputs_ahead(queue, QueueTicket(0, NOW), 1, S)  # a newcomer is behind all six
    # Ample: the balance pays for the six waiting and two rounds of 3 starters besides (each costing as much).
    assert inputs_ahead(replace(queue, credit_balance=12), QueueTicket(5, NOW), 1, S)
    assert not inputs_ahead(replace(queue, credit_balance=11), QueueTicket(5, NOW), 1, S)
    assert not inputs_ahead(replace(queue, credit_balance=12), QueueTicket(5, NOW), 2, S)


def test_a_job_whose_inputs_are_not_sent_takes_nothing_until_they_are() -> None:
    step = decide(fresh(), AdmissionRequest("j", 1, None, inputs_sent=False), NOW, S)
    assert step.decision == SendInputs("j") and not step.write  # no slot, no token taken yet
    held = fresh(holders=holding("j"))
    assert decide(held, AdmissionRequest("j", 1, None, inputs_sent=False), NOW, S).decision == Admitted(
        "j", already_held=True)  # a retried start that holds its slot keeps it
    short = fresh(credit_balance=2)  # less than a round of starters: the slot first, the upload after
    assert decide(short, AdmissionRequest("j", 1, None, inputs_sent=False), NOW, S).decision == Admitted("j")
