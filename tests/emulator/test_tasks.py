"""Billing, credit exhaustion, task expiry (unpolled window, 24 h id lifetime) and result URL lifetime."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from local.emulator import Emulator
from tests.emulator.conftest import Media
from tests.emulator.helpers import CREDIT_PATH, VendorClient

NOWHERE = {"src_file_url": "http://127.0.0.1:9/v.mp4", "ref_file_url": "http://127.0.0.1:9/i.jpg"}


def _client(emulator: Emulator) -> VendorClient:
    return VendorClient(emulator.base_url, emulator.config.api_key)


@pytest.mark.parametrize(("seconds", "units"), [(1, 1), (5, 1), (6, 2), (29, 6), (30, 6)])
def test_one_unit_per_started_five_seconds(client: VendorClient, emulator: Emulator, seconds: int,
                                           units: int) -> None:
    emulator.set_faults(never_finish=True)
    answer = client.create_task(**NOWHERE, dst_duration=seconds)
    assert answer.status_code == 200
    stats = emulator.stats()
    assert stats["units_charged"] == units
    assert stats["charges"][0]["units"] == units
    assert client.get(CREDIT_PATH).json()["results"][0]["amount_dec"] == 1000 - units


def test_credit_runs_out(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(credit_units=2)
    emulator.set_faults(never_finish=True)
    client = _client(emulator)
    assert client.create_task(**NOWHERE, dst_duration=10).status_code == 200  # 2 units
    refused = client.create_task(**NOWHERE, dst_duration=1)
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "CreditInsufficiency"
    stats = emulator.stats()
    assert (stats["tasks_created"], stats["units_charged"], stats["credit_units"]) == (1, 2, 0)


def test_unpolled_running_task_expires_but_stays_charged(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True)
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    emulator.advance_clock(emulator.config.unpolled_expiry_seconds + 1)
    answer = client.status(task_id)
    assert answer.status_code == 400
    assert answer.json() == {"status": 400, "error": "Invalid task ID"}
    assert emulator.stats()["units_charged"] == 1


def test_polling_keeps_a_running_task_alive(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True)
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    for _ in range(6):  # 6 x 2/3 of the window: far past it in total, never past it between two polls
        emulator.advance_clock(emulator.config.unpolled_expiry_seconds * 2 / 3)
        assert client.status(task_id).status_code == 200


def test_expiry_is_permanent_even_when_processing_finishes(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(task_error_code="error_inference", processing_delay_seconds=0.3)
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    emulator.advance_clock(emulator.config.unpolled_expiry_seconds + 1)  # while it still runs
    assert emulator.wait_for_task(task_id, timeout=5) == "error"
    assert client.status(task_id).status_code == 400


def test_finished_task_is_readable_without_polls(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(task_error_code="error_inference")
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    emulator.wait_for_task(task_id, timeout=5)
    emulator.advance_clock(emulator.config.unpolled_expiry_seconds * 10)
    assert client.status(task_id).json()["data"]["error"] == "error_inference"


def test_task_id_lifetime(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(task_error_code="error_inference")
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    emulator.wait_for_task(task_id, timeout=5)
    emulator.advance_clock(24 * 3600 - 60)
    assert client.status(task_id).status_code == 200
    emulator.advance_clock(61)
    assert client.status(task_id).json() == {"status": 400, "error": "Invalid task ID"}


def test_min_processing_time(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(min_processing_seconds=0.4)
    emulator.set_faults(task_error_code="error_inference")
    client = _client(emulator)
    started = time.monotonic()
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    assert client.status(task_id).json()["data"]["task_status"] == "running"
    emulator.wait_for_task(task_id, timeout=5)
    assert time.monotonic() - started >= 0.4


def test_result_url_expires(emulator: Emulator, client: VendorClient, media_files: Media) -> None:
    task_id = client.start(client.upload(media_files.short_face_video), client.upload(media_files.reference_jpg), 1)
    emulator.wait_for_task(task_id, timeout=30)
    url = client.status(task_id).json()["data"]["results"]["url"]
    emulator.advance_clock(emulator.config.result_url_ttl_seconds - 60)
    fresh = requests.get(url, timeout=10)
    assert fresh.status_code == 200 and fresh.content[4:8] == b"ftyp"
    assert requests.get(url.replace("signature=", "signature=0"), timeout=10).status_code == 403
    emulator.advance_clock(61)
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text
