"""The one waiting helper: returns the first real value, and says what it waited for when it times out."""

from __future__ import annotations

import itertools

import pytest

from local.eventually import eventually


def test_returns_the_first_value_that_is_not_none_or_false() -> None:
    answers = iter([None, False, 0, 7])
    assert eventually(lambda: next(answers), timeout=5, interval=0) == 0  # 0 is a value, not "not yet"


def test_times_out_naming_what_it_waited_for_and_the_last_value() -> None:
    counter = itertools.count()
    with pytest.raises(TimeoutError, match=r"job done not met within 0.05 s \(last: False\)"):
        eventually(lambda: next(counter) < 0, timeout=0.05, interval=0.01, what="job done")
