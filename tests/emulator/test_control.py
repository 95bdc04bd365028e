"""The /_emulator/* control endpoints over HTTP, and the stand-alone `python -m local.emulator`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from local.emulator import DEFAULT_WEBHOOK_SECRET, AdjustableClock, Emulator
from tests.emulator.conftest import WebhookReceiver
from tests.emulator.helpers import CREDIT_PATH, VendorClient

NOWHERE = {"src_file_url": "http://127.0.0.1:9/v.mp4", "ref_file_url": "http://127.0.0.1:9/i.jpg"}
ROOT = Path(__file__).resolve().parents[2]


def test_set_and_read_faults_over_http(emulator: Emulator, client: VendorClient) -> None:
    answer = requests.post(f"{emulator.base_url}/_emulator/faults", json={"rate_429": 1, "slow_seconds": 0},
                           timeout=5)
    assert answer.status_code == 200
    assert answer.json()["rate_429"] == 1.0
    assert emulator.faults.rate_429 == 1.0
    assert client.get(CREDIT_PATH).status_code == 429
    # Control endpoints are never faulted.
    assert requests.get(f"{emulator.base_url}/_emulator/faults", timeout=5).json()["rate_429"] == 1.0


def test_bad_fault_over_http_is_400(emulator: Emulator) -> None:
    answer = requests.post(f"{emulator.base_url}/_emulator/faults", json={"rate_429": "often"}, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "InvalidParameters"
    assert emulator.faults.rate_429 == 0.0


def test_stats_and_reset_over_http(emulator: Emulator, client: VendorClient) -> None:
    requests.post(f"{emulator.base_url}/_emulator/faults", json={"never_finish": True, "rate_5xx": 0.0}, timeout=5)
    task_id = client.create_task(**NOWHERE, dst_duration=7).json()["data"]["task_id"]
    stats = requests.get(f"{emulator.base_url}/_emulator/stats", timeout=5).json()
    assert (stats["tasks_created"], stats["units_charged"], stats["credit_units"]) == (1, 2, 998)
    assert stats["tasks"][0]["task_id"] == task_id
    assert stats["requests"]["POST /s2s/v2.0/task/face-swap-vid"] == 1
    assert stats["status_codes"]["200"] >= 1

    assert requests.post(f"{emulator.base_url}/_emulator/reset", timeout=5).status_code == 200
    stats = requests.get(f"{emulator.base_url}/_emulator/stats", timeout=5).json()
    assert (stats["tasks_created"], stats["credit_units"], stats["requests"]) == (0, 1000, {})
    assert stats["faults"]["never_finish"] is False
    assert client.status(task_id).json() == {"status": 400, "error": "Invalid task ID"}


def test_expire_one_task_over_http(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True)
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    assert requests.post(f"{emulator.base_url}/_emulator/tasks/{task_id}/expire", timeout=5).status_code == 200
    assert client.status(task_id).status_code == 400


def test_add_webhook_url_over_http(emulator: Emulator, client: VendorClient, receiver: WebhookReceiver) -> None:
    answer = requests.post(f"{emulator.base_url}/_emulator/webhook-urls", json={"url": receiver.url}, timeout=5)
    assert answer.json() == {"webhook_urls": [receiver.url]}
    requests.post(f"{emulator.base_url}/_emulator/faults", json={"task_error_code": "error_inference"}, timeout=5)
    client.create_task(**NOWHERE, dst_duration=3)
    assert len(receiver.wait_for(1)) == 1


def test_command_line_emulator(receiver: WebhookReceiver) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.emulator", "--port", "0", "--webhook-url", receiver.url,
         "--secret", DEFAULT_WEBHOOK_SECRET, "--api-key", "cli-key"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(3))
        assert lines["YOUCAM_API_KEY"] == "cli-key" and lines["WEBHOOK_SECRET"] == DEFAULT_WEBHOOK_SECRET
        client = VendorClient(lines["YOUCAM_BASE_URL"], "cli-key")
        assert client.get(CREDIT_PATH).json()["results"][0]["amount_dec"] == 1000
        stats = requests.get(lines["YOUCAM_BASE_URL"] + "/_emulator/stats", timeout=5).json()
        assert stats["webhook_urls"] == [receiver.url]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_advance_the_clock_over_http(emulator: Emulator, client: VendorClient) -> None:
    emulator.set_faults(never_finish=True)
    task_id = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    window = emulator.config.unpolled_expiry_seconds
    answer = requests.post(f"{emulator.base_url}/_emulator/clock", json={"advance_seconds": window + 1}, timeout=5)
    assert answer.status_code == 200
    assert window + 1 <= answer.json()["offset_seconds"] < window + 2
    assert requests.get(f"{emulator.base_url}/_emulator/clock", timeout=5).json()["offset_seconds"] >= window + 1
    assert client.status(task_id).status_code == 400  # the unpolled window passed
    backwards = requests.post(f"{emulator.base_url}/_emulator/clock", json={"advance_seconds": -5}, timeout=5)
    assert backwards.status_code == 400


def test_an_injected_clock_is_the_one_that_expires_things(make_emulator: Callable[..., Emulator]) -> None:
    clock = AdjustableClock()
    emulator = make_emulator(clock=clock)
    entry = VendorClient(emulator.base_url, emulator.config.api_key).declare("image/jpeg", "a.jpg", 5)
    clock.advance(emulator.config.upload_url_ttl_seconds + 1)
    put = entry["requests"][0]
    assert requests.put(put["url"], data=b"12345", headers=put["headers"], timeout=5).status_code == 403
    assert emulator.clock_offset() == clock.offset_seconds
    with pytest.raises(ValueError):
        clock.advance(-1)
