from __future__ import annotations

import pytest

from faceswap.admission import AdmissionSettings
from faceswap.admission import settings as names


def test_defaults_are_the_documented_ones() -> None:
    s = AdmissionSettings.from_env({})
    assert (s.max_tasks_in_flight, s.max_creates_per_second, s.max_queue_wait_seconds, s.credit_wait_seconds,
            s.credit_cache_seconds) == (10, 2.0, 6 * 3600, 3600, 60)
    assert s.max_recheck_seconds == 900


def test_every_setting_comes_from_its_variable() -> None:
    env = {names.MAX_TASKS_IN_FLIGHT: "3", names.MAX_CREATES_PER_SECOND: "0.5", names.CREATE_BURST: "1",
           names.MAX_QUEUE_WAIT_SECONDS: "600", names.CREDIT_WAIT_SECONDS: "0", names.CREDIT_CACHE_SECONDS: "5",
           names.START_LEASE_SECONDS: "70", names.RUN_LEASE_SECONDS: "700", names.BREAKER_THRESHOLD: "2",
           names.BREAKER_BACKOFF_SECONDS: "4", names.BREAKER_MAX_BACKOFF_SECONDS: "40", names.MIN_RECHECK_SECONDS: "1",
           names.MAX_RECHECK_SECONDS: "300", names.INITIAL_HOLD_SECONDS: "50"}
    assert set(env) == set(names.ENV_NAMES)
    assert AdmissionSettings.from_env(env) == AdmissionSettings(
        max_tasks_in_flight=3, max_creates_per_second=0.5, create_burst=1, max_queue_wait_seconds=600,
        credit_wait_seconds=0, credit_cache_seconds=5, start_lease_seconds=70, run_lease_seconds=700,
        breaker_threshold=2, breaker_backoff_seconds=4, breaker_max_backoff_seconds=40, min_recheck_seconds=1,
        max_recheck_seconds=300, initial_hold_seconds=50)


@pytest.mark.parametrize("bad", [{"max_tasks_in_flight": 0}, {"max_creates_per_second": 0},
                                 {"max_recheck_seconds": 901}, {"min_recheck_seconds": 5, "max_recheck_seconds": 4},
                                 {"breaker_threshold": 0}, {"create_burst": 0.5}])
def test_impossible_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        AdmissionSettings(**bad)  # type: ignore[arg-type]
