"""HTTP-level retries, proven by the emulator's request counters: 429 and 5xx are retried with back-off,
400/401 never; create-task is retried on 429 only, unless 5xx retries are switched on."""

from __future__ import annotations

import time

import pytest

from faceswap.youcam import (
    InvalidParameters,
    RateLimited,
    ServerError,
    VendorUnreachable,
    YouCamClient,
)
from local.emulator import Emulator
from local.eventually import eventually
from tests.contract.conftest import (
    API_KEY,
    CREDIT_ROUTE,
    MAX_RETRIES,
    STATUS_ROUTE,
    TASK_ROUTE,
    Inputs,
    fast_settings,
    requests_to,
    upload_media,
)

CALLS = 12


def test_429_storm_is_absorbed_by_retries(emulator: Emulator, client: YouCamClient) -> None:
    emulator.set_faults(rate_429=0.4)
    balances = [client.credit_balance() for _ in range(CALLS)]

    assert balances == [1000] * CALLS
    counts = requests_to(emulator, CREDIT_ROUTE)
    assert counts["200"] == CALLS and counts["429"] > 0  # every 429 was followed by a retry that succeeded
    assert set(counts) == {"200", "429"}


def test_5xx_storm_on_status_calls_is_absorbed_by_retries(
    emulator: Emulator, client: YouCamClient, inputs: Inputs
) -> None:
    video_id, image_id = upload_media(client, inputs)
    created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    emulator.wait_for_task(created.task_id, timeout=30)
    emulator.set_faults(rate_5xx=0.4, status_5xx=503)
    statuses = [client.get_task(created.task_id) for _ in range(CALLS)]

    assert all(status.succeeded for status in statuses)
    counts = requests_to(emulator, STATUS_ROUTE)
    assert counts["200"] == CALLS and counts["503"] > 0 and set(counts) == {"200", "503"}


def test_create_task_is_retried_on_429_without_creating_duplicates(
    emulator: Emulator, client: YouCamClient, inputs: Inputs
) -> None:
    video_id, image_id = upload_media(client, inputs)
    emulator.set_faults(rate_429=0.5)
    task_ids = {
        client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds).task_id
        for _ in range(6)
    }

    counts = requests_to(emulator, TASK_ROUTE)
    assert counts["429"] > 0 and counts["200"] == 6
    assert len(task_ids) == 6 and emulator.stats()["tasks_created"] == 6


def test_exhausted_429_retries_raise_rate_limited_with_the_vendor_retry_after(
    emulator: Emulator, client: YouCamClient
) -> None:
    emulator.set_faults(rate_429=1.0, retry_after_seconds=7)
    with pytest.raises(RateLimited) as caught:
        client.create_task(src_file_id="a", ref_file_id="b", dst_duration=2)

    assert (caught.value.http_status, caught.value.retryable, caught.value.retry_after_seconds) == (429, True, 7.0)
    assert requests_to(emulator, TASK_ROUTE) == {"429": MAX_RETRIES + 1}
    assert emulator.stats()["tasks_created"] == 0


def test_retry_after_is_honoured_up_to_the_configured_cap(emulator: Emulator) -> None:
    emulator.set_faults(rate_429=1.0, retry_after_seconds=1)
    settings = fast_settings(emulator.base_url, max_retries=1, max_retry_after_seconds=5)
    with YouCamClient(API_KEY, settings) as client, pytest.raises(RateLimited):
        started = time.monotonic()
        client.credit_balance()
    assert time.monotonic() - started >= 1.0
    assert requests_to(emulator, CREDIT_ROUTE) == {"429": 2}


def test_create_task_is_not_retried_on_5xx_by_default(emulator: Emulator, client: YouCamClient) -> None:
    emulator.set_faults(rate_5xx=1.0, status_5xx=500)
    with pytest.raises(ServerError) as caught:
        client.create_task(src_file_id="a", ref_file_id="b", dst_duration=2)
    assert caught.value.retryable
    assert requests_to(emulator, TASK_ROUTE) == {"500": 1}


def test_create_task_5xx_retries_can_be_switched_on(emulator: Emulator, inputs: Inputs) -> None:
    settings = fast_settings(emulator.base_url, retry_create_on_server_error=True)
    with YouCamClient(API_KEY, settings) as client:
        video_id, image_id = upload_media(client, inputs)
        emulator.set_faults(rate_5xx=0.5, status_5xx=503)
        for _ in range(4):
            client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    counts = requests_to(emulator, TASK_ROUTE)
    assert counts["503"] > 0 and counts["200"] == 4


def test_client_errors_are_never_retried(emulator: Emulator, client: YouCamClient) -> None:
    with pytest.raises(InvalidParameters):
        client.create_task(src_file_id="unknown", ref_file_id="unknown", dst_duration=2)
    with YouCamClient("wrong-key", fast_settings(emulator.base_url)) as stranger:
        for _ in range(2):
            with pytest.raises(Exception, match="401"):
                stranger.credit_balance()
    assert requests_to(emulator, TASK_ROUTE) == {"400": 1}
    assert requests_to(emulator, CREDIT_ROUTE) == {"401": 2}


def test_a_lost_create_answer_is_not_retried_and_shows_the_double_create_risk(emulator: Emulator,
                                                                             inputs: Inputs) -> None:
    settings = fast_settings(emulator.base_url, read_timeout_seconds=0.3)
    with YouCamClient(API_KEY, settings) as client:
        video_id, image_id = upload_media(client, inputs)
        emulator.set_faults(slow_seconds=0.6)
        with pytest.raises(VendorUnreachable):
            client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    # We saw an error, yet the vendor created (and billed) the task: a blind retry would create a second.
    eventually(lambda: requests_to(emulator, TASK_ROUTE) == {"200": 1}, 5, what="the slow create answered")
    assert emulator.stats()["tasks_created"] == 1


def test_lost_answers_to_idempotent_calls_are_retried(emulator: Emulator) -> None:
    settings = fast_settings(emulator.base_url, read_timeout_seconds=0.2, max_retries=1)
    emulator.set_faults(slow_seconds=0.4)
    with YouCamClient(API_KEY, settings) as client, pytest.raises(VendorUnreachable) as caught:
        client.credit_balance()
    assert caught.value.retryable
    eventually(lambda: requests_to(emulator, CREDIT_ROUTE) == {"200": 2}, 5, what="both slow answers")
