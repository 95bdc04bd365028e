"""The poller's decisions (faceswap.polling): the next wait (whole seconds, at most what an Express poller can
wait), when the poller hands over to a fresh one (before Express's 5-minute limit), and the answer check_status
gives the poller's next states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from faceswap.polling import (
    HAND_OVER_AFTER_SECONDS,
    MAX_WAIT_SECONDS,
    hand_over_budget,
    next_poll,
    seconds_since,
    should_hand_over,
    wait_seconds,
)
from faceswap.states import PollState, StateError

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def _ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _poll(final: bool, status: str, count: int, interval: float | None, started: str | None) -> PollState:
    return next_poll(final=final, status=status, count=count, interval=interval,
                     elapsed_seconds=seconds_since(started, NOW), budget_seconds=HAND_OVER_AFTER_SECONDS)


@pytest.mark.parametrize(("interval", "expected"), [(None, 5), (0, 5), (0.2, 1), (4.1, 5), (600, MAX_WAIT_SECONDS)])
def test_waits_are_whole_seconds_within_what_an_express_poller_can_wait(interval: float | None,
                                                                          expected: int) -> None:
    assert wait_seconds(interval) == expected


def test_the_default_wait_is_the_deployments_polling_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_POLLING_INTERVAL_SECONDS", "12")
    assert (wait_seconds(None), wait_seconds(3)) == (12, 3)


def test_a_poller_hands_over_when_its_next_wait_would_end_past_the_limit() -> None:
    budget = HAND_OVER_AFTER_SECONDS
    assert _poll(False, "running", 3, 5, _ago(budget - 10)).hand_over is False
    assert _poll(False, "running", 3, 5, _ago(budget - 4)).hand_over is True
    # The longest wait still fits a fresh poller's first check; after it, the next one may not.
    assert _poll(False, "running", 1, MAX_WAIT_SECONDS, _ago(budget - MAX_WAIT_SECONDS)).hand_over is False
    assert _poll(False, "running", 1, MAX_WAIT_SECONDS, _ago(budget - MAX_WAIT_SECONDS + 1)).hand_over is True
    assert _poll(False, "running", 1, 5, None).hand_over is False  # no start time: nothing to measure
    assert should_hand_over(budget - 5, 5, budget) is False and should_hand_over(budget - 4.9, 5, budget) is True


def test_the_budget_can_be_shortened_for_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    assert hand_over_budget() == HAND_OVER_AFTER_SECONDS
    monkeypatch.setenv("POLLER_HAND_OVER_SECONDS", "20")
    assert hand_over_budget() == 20


def test_elapsed_time_reads_step_functions_timestamps() -> None:
    assert seconds_since("2026-11-25T11:59:30.000Z", NOW) == 30
    assert seconds_since("2026-11-25T11:59:30", NOW) == 30  # no zone: UTC
    assert seconds_since(None, NOW) == 0 and seconds_since("", NOW) == 0


def test_the_answer_carries_what_the_next_state_needs() -> None:
    assert _poll(True, "success", 7, 5, _ago(10)).model_dump(exclude_none=True) == {
        "final": True, "status": "success", "count": 7, "interval_seconds": 5, "hand_over": False}
    failed = next_poll(final=True, status="error", count=2, interval=None, elapsed_seconds=0, budget_seconds=180,
                       vendor_error=StateError(Error="Vendor.error_no_face", Cause="no face"))
    assert failed.model_dump(exclude_none=True)["vendor_error"] == {"Error": "Vendor.error_no_face",
                                                                     "Cause": "no face"}
