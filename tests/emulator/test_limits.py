"""Admission limits (a cap on running tasks, a create rate) and the records that let a test prove a pipeline's
guarantees from the vendor's side: running tasks over time, uploads per file, units per task."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
import requests

from local.emulator import Emulator
from tests.emulator.conftest import Media
from tests.emulator.helpers import TASK_PATH, VendorClient, assert_shape

NOWHERE = {"src_file_url": "http://127.0.0.1:9/v.mp4", "ref_file_url": "http://127.0.0.1:9/i.jpg"}
TOO_MANY_REQUESTS = {"status": 429, "error": "Too many requests"}


def _create(client: VendorClient) -> requests.Response:
    return client.create_task(**NOWHERE, dst_duration=3)


def test_limits_are_off_by_default(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True)
    assert [_create(client).status_code for _ in range(12)] == [200] * 12
    assert emulator.faults.max_running_tasks is None and emulator.faults.create_rate_per_second is None


def test_running_cap_refuses_creates_with_retry_after(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True, max_running_tasks=2, retry_after_seconds=7)
    assert [_create(client).status_code for _ in range(2)] == [200, 200]
    refused = _create(client)
    assert refused.status_code == 429
    assert_shape(refused.json(), TOO_MANY_REQUESTS)
    assert refused.headers["Retry-After"] == "7"
    stats = emulator.stats()
    # Refused before anything was created or charged.
    assert (stats["tasks_created"], stats["units_charged"], stats["credit_units"]) == (2, 2, 998)
    assert (stats["running_tasks"], stats["running_max"], stats["throttled"]) == (2, 2, {"running_cap": 1})
    assert stats["responses"][f"POST {TASK_PATH}"] == {"200": 2, "429": 1}


def test_a_finished_task_frees_its_slot(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(max_running_tasks=1, task_error_code="error_inference", processing_delay_seconds=0.2)
    first = _create(client).json()["data"]["task_id"]
    assert _create(client).status_code == 429
    assert emulator.wait_for_task(first, timeout=5) == "error"
    second = _create(client)
    assert second.status_code == 200
    stats = emulator.stats()
    assert [count for _, count in stats["running_timeline"]] == [1, 0, 1]
    times = [at for at, _ in stats["running_timeline"]]
    assert times == sorted(times)
    assert stats["running_max"] == 1


def test_the_cap_holds_under_concurrent_creates(emulator: Emulator) -> None:
    emulator.set_faults(never_finish=True, max_running_tasks=3)
    answers: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        status = _create(VendorClient(emulator.base_url, emulator.config.api_key)).status_code
        with lock:
            answers.append(status)

    threads = [threading.Thread(target=create) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200] * 3 + [429] * 13
    stats = emulator.stats()
    assert (stats["tasks_created"], stats["running_max"]) == (3, 3)
    assert max(count for _, count in stats["running_timeline"]) == 3


def test_create_rate_is_a_token_bucket_on_the_emulator_clock(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True, create_rate_per_second=0.5, create_burst=2)
    assert [_create(client).status_code for _ in range(2)] == [200, 200]  # the burst
    refused = _create(client)
    assert refused.status_code == 429
    assert_shape(refused.json(), TOO_MANY_REQUESTS)
    assert 1 <= int(refused.headers["Retry-After"]) <= 2  # one token every 2 s
    emulator.advance_clock(2.0)
    assert [_create(client).status_code for _ in range(2)] == [200, 429]
    emulator.advance_clock(10.0)  # refills up to the burst, not beyond
    assert [_create(client).status_code for _ in range(3)] == [200, 200, 429]
    assert emulator.stats()["throttled"] == {"create_rate": 3}


def test_other_routes_are_not_limited(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True, max_running_tasks=0, create_rate_per_second=0.01)
    assert _create(client).status_code == 429
    assert client.get("/s2s/v1.0/client/credit").status_code == 200
    assert client.declare("image/jpeg", "face.jpg", 10)["file_id"]


def test_limits_over_http_and_their_validation(emulator: Emulator, client: VendorClient) -> None:
    url = f"{emulator.base_url}/_emulator/faults"
    answer = requests.post(url, json={"max_running_tasks": 1, "create_rate_per_second": 5}, timeout=5)
    assert answer.status_code == 200
    assert (answer.json()["max_running_tasks"], answer.json()["create_rate_per_second"]) == (1, 5.0)
    for bad in ({"max_running_tasks": -1}, {"create_rate_per_second": 0}, {"create_burst": 0},
                {"max_running_tasks": True}):
        assert requests.post(url, json=bad, timeout=5).status_code == 400
    assert requests.post(url, json={"max_running_tasks": None}, timeout=5).json()["max_running_tasks"] is None


def test_reset_forgets_the_records_and_refills_the_bucket(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True, create_rate_per_second=0.01)
    assert [_create(client).status_code for _ in range(2)] == [200, 429]
    emulator.reset()
    stats = emulator.stats()
    assert (stats["running_tasks"], stats["running_max"], stats["running_timeline"], stats["throttled"]) == (
        0, 0, [], {})
    emulator.set_faults(never_finish=True, create_rate_per_second=0.01)
    assert _create(client).status_code == 200


def test_uploads_and_registrations_are_counted_per_file(
    emulator: Emulator, client: VendorClient, media_files: Media
) -> None:
    video = media_files.short_face_video
    client.declare("video/mp4", video.name, video.stat().st_size)  # registered, never uploaded
    src = client.upload(video)
    ref = client.upload(media_files.reference_jpg)
    client.upload(media_files.reference_jpg)  # the same face again
    task_id = client.start(src, ref, dst_duration=1)
    stats = emulator.stats()
    assert stats["registrations_by_name"] == {video.name: 2, media_files.reference_jpg.name: 2}
    assert stats["uploads_by_name"] == {video.name: 1, media_files.reference_jpg.name: 2}
    assert stats["uploads_by_sha256"] == {_sha256(video): 1, _sha256(media_files.reference_jpg): 2}
    assert stats["units_by_task"] == {task_id: 1}


@pytest.mark.parametrize("seconds", [4, 11])
def test_units_by_task(emulator: Emulator, client: VendorClient, seconds: int) -> None:
    emulator.set_faults(never_finish=True)
    task_id = client.create_task(**NOWHERE, dst_duration=seconds).json()["data"]["task_id"]
    assert emulator.stats()["units_by_task"] == {task_id: -(-seconds // 5)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
