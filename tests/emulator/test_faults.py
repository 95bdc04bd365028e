"""Every API and task fault switch, set in process; injected failures are seeded and leave no side effects."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from local.emulator import Emulator
from tests.emulator.conftest import Media
from tests.emulator.helpers import CREDIT_PATH, TASK_PATH, VendorClient

NOWHERE = {"src_file_url": "http://127.0.0.1:9/v.mp4", "ref_file_url": "http://127.0.0.1:9/i.jpg"}


def _statuses(client: VendorClient, count: int) -> list[int]:
    return [client.get(CREDIT_PATH).status_code for _ in range(count)]


def test_rate_429_has_retry_after_and_no_side_effect(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(rate_429=1.0, retry_after_seconds=3)
    answer = client.create_task(**NOWHERE, dst_duration=3)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "3"
    stats = emulator.stats()
    assert (stats["tasks_created"], stats["credit_units"]) == (0, 1000)
    assert stats["responses"][f"POST {TASK_PATH}"] == {"429": 1}


def test_injected_failures_are_seeded(make_emulator: Callable[..., Emulator]) -> None:
    runs = []
    for _ in range(2):
        emulator = make_emulator(seed=7)
        emulator.set_faults(rate_429=0.5)
        runs.append(_statuses(VendorClient(emulator.base_url, emulator.config.api_key), 20))
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 429}
    emulator.reset()
    emulator.set_faults(rate_429=0.5)
    assert _statuses(VendorClient(emulator.base_url, emulator.config.api_key), 20) == runs[0]


def test_stats_prove_retries(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(rate_5xx=0.5)
    statuses = _statuses(client, 10)
    counts = emulator.stats()["responses"][f"GET {CREDIT_PATH}"]
    assert counts == {str(s): statuses.count(s) for s in set(statuses)}
    assert emulator.stats()["requests"][f"GET {CREDIT_PATH}"] == 10


def test_late_answer_does_the_work_first_then_answers_late_for_the_next_n_calls(client: VendorClient,
                                                                                emulator: Emulator) -> None:
    emulator.set_faults(late_answer_seconds=0.6, late_answer_count=1, fault_route_prefix=f"POST {TASK_PATH}")
    assert _statuses(client, 1) == [200]  # another route: on time
    started = time.monotonic()
    first = client.create_task(**NOWHERE, dst_duration=3)
    late = time.monotonic() - started
    started = time.monotonic()
    second = client.create_task(**NOWHERE, dst_duration=3)
    on_time = time.monotonic() - started
    assert (first.status_code, second.status_code) == (200, 200)
    assert late >= 0.6 > on_time
    assert emulator.stats()["tasks_created"] == 2  # the late answer's task exists (and is billed) all the same
    assert emulator.faults.late_answer_seconds == 0.0 and emulator.faults.late_answer_count is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_rate_5xx(client: VendorClient, emulator: Emulator, status: int) -> None:
    emulator.set_faults(rate_5xx=1.0, status_5xx=status)
    answer = client.get(CREDIT_PATH)
    assert answer.status_code == status
    assert answer.json()["status"] == status


def test_slow_seconds(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(slow_seconds=0.4)
    started = time.monotonic()
    assert client.get(CREDIT_PATH).status_code == 200
    assert time.monotonic() - started >= 0.4
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.session.get(client.base_url + CREDIT_PATH, timeout=0.1)


def test_reject_api_key(client: VendorClient, emulator: Emulator) -> None:
    emulator.faults.reject_api_key = True
    assert client.get(CREDIT_PATH).status_code == 401
    emulator.faults.reject_api_key = False
    assert client.get(CREDIT_PATH).status_code == 200


def test_credit_units_sets_the_balance(client: VendorClient, emulator: Emulator) -> None:
    emulator.faults.credit_units = 0
    assert client.get(CREDIT_PATH).json()["results"][0]["amount"] == 0
    answer = client.create_task(**NOWHERE, dst_duration=3)
    assert answer.json()["error_code"] == "CreditInsufficiency"
    emulator.set_faults(credit_units=1)
    assert client.create_task(**NOWHERE, dst_duration=3).status_code == 200


def test_task_error_code_for_the_next_task_only(client: VendorClient, emulator: Emulator,
                                                media_files: Media) -> None:
    emulator.set_faults(task_error_code="error_inference", task_error_count=1)
    src, ref = client.upload(media_files.short_face_video), client.upload(media_files.reference_jpg)
    first, second = client.start(src, ref, 1), client.start(src, ref, 1)
    assert client.poll_until_final(first)["error"] == "error_inference"
    assert client.poll_until_final(second)["task_status"] == "success"
    assert emulator.faults.task_error_code is None


def test_task_error_code_for_every_task(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(task_error_code="unknown_internal_error")
    for _ in range(3):
        task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
        data = client.poll_until_final(task_id)
        assert (data["task_status"], data["error"], data["error_message"]) == (
            "error", "unknown_internal_error", "Others")


def test_task_timeout_is_captured_at_creation(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(task_timeout=True)
    timing_out = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    emulator.set_faults(task_timeout=False)
    normal = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    assert client.status(timing_out).json() == {"status": 500, "error": "Task execution timed out"}
    assert client.status(normal).status_code == 200


def test_processing_delay(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(processing_delay_seconds=0.6, task_error_code="error_inference")
    started = time.monotonic()
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    time.sleep(0.3)
    assert client.status(task_id).json()["data"]["task_status"] == "running"
    assert client.poll_until_final(task_id)["task_status"] == "error"
    assert time.monotonic() - started >= 0.6


def test_never_finish(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(never_finish=True)
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    with pytest.raises(TimeoutError):
        emulator.wait_for_task(task_id, timeout=0.5)
    assert client.status(task_id).json()["data"]["task_status"] == "running"


def test_expire_tasks(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(never_finish=True)
    old = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    emulator.set_faults(expire_tasks=True)
    assert client.status(old).json() == {"status": 400, "error": "Invalid task ID"}
    during = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    assert client.status(during).status_code == 400
    emulator.set_faults(expire_tasks=False)
    after = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    assert client.status(after).status_code == 200
    assert client.status(old).status_code == 400  # expiry is permanent
    assert emulator.stats()["units_charged"] == 3


@pytest.mark.parametrize(
    "changes",
    [{"rate_429": 1.5}, {"no_such_switch": 1}, {"never_finish": "yes"}, {"status_5xx": 404},
     {"webhook_forge": "sometimes"}, {"credit_units": True}, {"slow_seconds": -1}],
)
def test_bad_fault_values_are_refused_atomically(emulator: Emulator, changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        emulator.set_faults(rate_5xx=0.5, **changes)
    assert emulator.faults.rate_5xx == 0.0
