"""The state machines' time budgets (faceswap.budgets): a task's worst case, and what follows for the poller and the
job. (tests/infra/test_time_budgets.py proves the same sums on the synthesized definitions.)"""

from __future__ import annotations

from faceswap import budgets
from faceswap.budgets import Retry, TaskTiming


def test_a_tasks_worst_case_is_every_attempt_at_its_timeout_and_every_retry_at_its_longest_delay() -> None:
    assert Retry(max_attempts=3, interval_seconds=2).delays() == [2, 4, 8]
    assert Retry(max_attempts=4, interval_seconds=5, backoff_rate=3, max_delay_seconds=60).delays() == [5, 15, 45, 60]
    assert TaskTiming(10, Retry(max_attempts=2, interval_seconds=1)).worst_seconds == 3 * 10 + 1 + 2
    assert TaskTiming(25, Retry(0, 1)).function_timeout_seconds == 20  # the function times out first


def test_a_fresh_poller_and_a_looping_one_both_end_inside_the_express_limit_with_the_margin() -> None:
    limit = budgets.EXPRESS_LIMIT_SECONDS - budgets.EXPRESS_MARGIN_SECONDS
    assert budgets.STORE_TOKEN.worst_seconds + budgets.MAX_WAIT_SECONDS + budgets.ROUND_SECONDS <= limit
    assert budgets.HAND_OVER_AFTER_SECONDS + budgets.CHECK.timeout_seconds + budgets.ROUND_SECONDS <= limit
    assert budgets.MAX_WAIT_SECONDS >= 60  # a vendor's polling_interval of a minute is still honoured


def test_the_heartbeat_timeout_is_a_whole_number_of_minutes_above_the_longest_gap() -> None:
    gap = max(budgets.heartbeat_gaps().values())
    assert gap == budgets.heartbeat_gaps()["across a hand-over"]
    assert budgets.JOB_HEARTBEAT_SECONDS % 60 == 0
    assert gap + budgets.HEARTBEAT_MARGIN_SECONDS <= budgets.JOB_HEARTBEAT_SECONDS < gap + 2 * 60
