"""How long waiting jobs stay away: bounded, about when their slot frees, spread, honouring the breaker."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from faceswap.admission import (
    BREAKER_OPEN,
    CONTENTION,
    CREDIT_SHORT,
    NO_SLOT,
    NO_TOKEN,
    VENDOR_BUSY,
    AdmissionSettings,
    AdmissionState,
    Holder,
    Holders,
    QueueTicket,
)
from faceswap.admission.delays import recheck_delay, slot_eta

NOW = 50_000.0
S = AdmissionSettings(max_tasks_in_flight=10, max_creates_per_second=2, min_recheck_seconds=2)


def busy(hold: float = 60.0, measured: int = 50, admitted_ago: float = 10.0, **changes: object) -> AdmissionState:
    """All 10 slots held, admitted `admitted_ago` s apart going back from now; H measured at `hold`."""
    holders = Holders({f"h{i}": Holder(1, NOW - admitted_ago * (i + 1), NOW + 600) for i in range(10)})
    state = AdmissionState(tokens=2.0, tokens_at=NOW, holders=holders, hold_sum=hold * measured,
                           hold_count=measured, next_ticket=1000, served=0)
    return replace(state, **changes)  # type: ignore[arg-type]


def delay(state: AdmissionState, reason: str = NO_SLOT, number: int = 1, queued_at: float = NOW - 10,
          seed: int = 0, settings: AdmissionSettings = S, **kwargs: float) -> int:
    return recheck_delay(state, reason, QueueTicket(number, queued_at), NOW, settings, random.Random(seed), **kwargs)


def test_the_estimate_follows_the_holders_and_the_position() -> None:
    state = busy()  # releases expected at now - 10 + 60 = +50 s, +40, ..., -40 (overdue), then every H again
    first = slot_eta(state, 1, NOW, S)
    assert first == pytest.approx(6.0)  # the oldest holder is overdue: "soon" = 0.1 H
    assert slot_eta(state, 10, NOW, S) == pytest.approx(50.0)
    assert slot_eta(state, 11, NOW, S) == pytest.approx(6.0 + 60)  # the next round
    assert slot_eta(state, 101, NOW, S) == pytest.approx(6.0 + 600)
    etas = [slot_eta(state, p, NOW, S) for p in range(1, 300)]
    assert etas == sorted(etas)


def test_free_slots_are_taken_now_by_the_jobs_ahead() -> None:
    three = replace(busy(), holders=Holders(list(busy().holders.items())[:7]))  # 3 slots free
    assert slot_eta(three, 3, NOW, S) == pytest.approx(0.5)  # only the create rate: 2 tokens, then 2/s
    assert slot_eta(three, 4, NOW, S) >= 6.0  # a release


def test_every_delay_is_within_the_minimum_and_sqs_maximum() -> None:
    for number in (1, 5, 50, 500, 5000, 50_000):
        for seed in range(5):
            assert 2 <= delay(busy(), number=number, seed=seed) <= 900


def test_a_job_far_back_comes_back_one_hold_time_before_its_turn() -> None:
    state = busy()
    for number in (60, 200):
        eta = slot_eta(state, number, NOW, S)
        assert delay(state, number=number) == pytest.approx(min(eta - 60, 900), rel=0.12, abs=2)


def test_the_next_jobs_in_line_poll_at_a_period_that_keeps_slots_busy() -> None:
    period = 0.015 * 60 * 10  # GAP_FRACTION * H * slots: ~0.9 s of idle slot per release
    delays = [delay(busy(), number=n, seed=n) for n in range(1, 11)]
    assert all(period * 0.9 <= d <= period * 1.1 + 2 for d in delays)


def test_waiters_are_spread_by_jitter() -> None:
    assert len({delay(busy(), number=80, seed=seed) for seed in range(20)}) > 5


def test_while_hold_times_are_unmeasured_a_job_comes_back_within_the_guess() -> None:
    state = busy(hold=0.0, measured=0)
    assert delay(state, number=5000) <= S.initial_hold_seconds * 1.1 + 1


def test_a_rate_wait_is_short() -> None:
    state = replace(busy(), holders=Holders(), tokens=0.0)
    assert delay(state, NO_TOKEN, number=1) <= 3


def test_the_breaker_keeps_everyone_away_until_it_closes_spread_by_the_create_rate() -> None:
    state = busy(open_until=NOW + 120)
    delays = [delay(state, BREAKER_OPEN, number=n, seed=n) for n in range(1, 40)]
    assert min(delays) >= 120
    assert max(delays) <= 120 + 10 / 2 * 1.1 + 60 + 2  # the cap / rate spread, or a later turn
    assert len(set(delays)) > 5


def test_a_vendor_429_honours_retry_after() -> None:
    assert delay(busy(), VENDOR_BUSY, not_before=45) >= 45
    assert delay(busy(), CONTENTION) <= 3


def test_a_credit_wait_comes_back_when_a_new_balance_is_read_and_in_time_to_be_refused() -> None:
    state = busy(credit_balance=0, credit_read_at=NOW - 20)
    assert 40 * 0.9 <= delay(state, CREDIT_SHORT) <= 40 * 1.1 + 2
    short = recheck_delay(state, CREDIT_SHORT, QueueTicket(0, NOW, credit_short_since=NOW - S.credit_wait_seconds + 5),
                          NOW, S, random.Random(0))
    assert short <= 7


def test_no_wait_runs_past_the_longest_queue_wait() -> None:
    assert delay(busy(), number=900, queued_at=NOW - S.max_queue_wait_seconds + 30) <= 31
