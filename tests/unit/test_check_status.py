"""One poll's answer: the next wait (whole seconds, at most what an Express poller can wait) and when the poller
hands over to a fresh one (before Express's 5-minute limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from check_status.app import HAND_OVER_AFTER_SECONDS, _poll

from faceswap.workflow_input import MAX_WAIT_SECONDS, wait_seconds


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(("interval", "expected"), [(None, 5), (0, 5), (0.2, 1), (4.1, 5), (600, MAX_WAIT_SECONDS)])
def test_waits_are_whole_seconds_within_what_an_express_poller_can_wait(interval: float | None,
                                                                          expected: int) -> None:
    assert wait_seconds(interval) == expected


def test_a_poller_hands_over_when_its_next_wait_would_end_past_the_limit() -> None:
    assert HAND_OVER_AFTER_SECONDS == 180
    assert _poll(False, "running", 3, 5, _ago(170))["hand_over"] is False
    assert _poll(False, "running", 3, 5, _ago(176))["hand_over"] is True
    assert _poll(False, "running", 1, 240, _ago(1))["hand_over"] is True  # one long wait is already too long
    assert _poll(False, "running", 1, 5, None)["hand_over"] is False  # no start time: nothing to measure


def test_the_answer_carries_what_the_next_state_needs() -> None:
    assert _poll(True, "success", 7, 5, _ago(10)) == {"final": True, "status": "success", "count": 7,
                                                      "interval_seconds": 5, "hand_over": False}
