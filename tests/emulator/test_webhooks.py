"""Webhook deliveries follow Standard Webhooks and the vendor's thin body; the webhook faults misbehave
the way a receiver must survive."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from local.emulator import DEFAULT_WEBHOOK_SECRET, Emulator
from local.eventually import eventually
from tests.emulator.conftest import Media, WebhookReceiver
from tests.emulator.helpers import VendorClient, assert_shape

NOWHERE = {"src_file_url": "http://127.0.0.1:9/v.mp4", "ref_file_url": "http://127.0.0.1:9/i.jpg"}
# youcam-api.md §4 "Webhooks": thin body, no result URL.
BODY = {"created_at": int, "data": {"task_id": str, "task_status": "error"}}
OTHER_SECRET = "whsec_" + base64.b64encode(b"rotated-secret-for-tests-000000").decode()


def _failing_task(emulator: Emulator, receiver: WebhookReceiver) -> str:
    """A task that ends at once (forced engine error), announced to the receiver."""
    emulator.add_webhook_url(receiver.url)
    if emulator.faults.task_error_code is None:
        emulator.set_faults(task_error_code="error_inference")
    client = VendorClient(emulator.base_url, emulator.config.api_key)
    task_id: str = client.create_task(**NOWHERE, dst_duration=3).json()["data"]["task_id"]
    emulator.wait_for_task(task_id, timeout=5)
    return task_id


def test_success_webhook_verifies(emulator: Emulator, client: VendorClient, receiver: WebhookReceiver,
                                  media_files: Media) -> None:
    emulator.add_webhook_url(receiver.url)
    task_id = client.start(client.upload(media_files.short_face_video), client.upload(media_files.reference_jpg), 1)
    [delivery] = receiver.wait_for(1)
    payload = Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    assert_shape(payload, {"created_at": int, "data": {"task_id": task_id, "task_status": "success"}})
    # The vendor's own id form: msg_<task_id>:<created_at>.
    assert delivery.headers["webhook-id"] == f"msg_{task_id}:{payload['created_at']}"
    assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 5
    assert delivery.headers["webhook-signature"].startswith("v1,")
    assert json.loads(delivery.body) == payload and b" " not in delivery.body  # compact JSON
    [record] = emulator.wait_for_webhooks(1, timeout=5)
    assert (record["url"], record["webhook_id"], record["status_code"]) == (
        receiver.url, delivery.headers["webhook-id"], 204)


def test_error_webhook_and_recorded_answer(emulator: Emulator, receiver: WebhookReceiver) -> None:
    receiver.answer_status = 500
    task_id = _failing_task(emulator, receiver)
    [delivery] = receiver.wait_for(1)
    payload = Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    assert_shape(payload, BODY)
    assert payload["data"]["task_id"] == task_id
    assert emulator.wait_for_webhooks(1, timeout=5)[0]["status_code"] == 500


def test_every_endpoint_gets_the_same_webhook_id(make_emulator: Callable[..., Emulator],
                                                 receiver: WebhookReceiver) -> None:
    emulator = make_emulator(webhook_urls=[receiver.url + "/a"])
    _failing_task(emulator, receiver)
    deliveries = receiver.wait_for(2)
    assert len(deliveries) == 2
    assert deliveries[0].headers["webhook-id"] == deliveries[1].headers["webhook-id"]


def test_extra_secrets_add_signatures(make_emulator: Callable[..., Emulator], receiver: WebhookReceiver) -> None:
    emulator = make_emulator(extra_webhook_secrets=[OTHER_SECRET])
    _failing_task(emulator, receiver)
    [delivery] = receiver.wait_for(1)
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    for secret in (DEFAULT_WEBHOOK_SECRET, OTHER_SECRET):
        Webhook(secret).verify(delivery.body, delivery.headers)


def test_unreachable_endpoint_is_recorded(make_emulator: Callable[..., Emulator],
                                          receiver: WebhookReceiver) -> None:
    emulator = make_emulator(webhook_urls=["http://127.0.0.1:9/closed"], webhook_timeout_seconds=1)
    _failing_task(emulator, receiver)
    records = emulator.wait_for_webhooks(2, timeout=5)
    closed = [r for r in records if r["url"].endswith("/closed")]
    assert closed and closed[0]["status_code"] is None and closed[0]["error"] == "ConnectionError"


def test_fault_webhook_drop(emulator: Emulator, receiver: WebhookReceiver) -> None:
    emulator.set_faults(webhook_drop=True)
    _failing_task(emulator, receiver)
    # Counted when the task finishes, instead of planning a delivery: nothing can arrive after this.
    eventually(lambda: emulator.stats()["webhooks_dropped"] == 1, 5, what="the dropped delivery")
    assert receiver.received == []


def test_fault_webhook_duplicate(emulator: Emulator, receiver: WebhookReceiver) -> None:
    emulator.set_faults(webhook_duplicate=True)
    _failing_task(emulator, receiver)
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    for delivery in (first, second):
        Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    assert [r["kind"] for r in emulator.wait_for_webhooks(2, timeout=5)] == ["final", "duplicate"]


def test_fault_webhook_delay(emulator: Emulator, receiver: WebhookReceiver) -> None:
    emulator.set_faults(webhook_delay_seconds=0.6)
    _failing_task(emulator, receiver)
    finished_at = emulator.stats()["tasks"][0]["finished_at"]
    [delivery] = receiver.wait_for(1)
    assert delivery.at - finished_at >= 0.6


def test_fault_webhook_out_of_order(emulator: Emulator, receiver: WebhookReceiver) -> None:
    emulator.set_faults(webhook_out_of_order=True)
    task_id = _failing_task(emulator, receiver)
    final, stale = receiver.wait_for(2)
    final_body = Webhook(DEFAULT_WEBHOOK_SECRET).verify(final.body, final.headers)
    stale_body = Webhook(DEFAULT_WEBHOOK_SECRET).verify(stale.body, stale.headers)
    assert final_body["data"] == {"task_id": task_id, "task_status": "error"}
    assert stale_body["data"] == {"task_id": task_id, "task_status": "running"}
    assert stale_body["created_at"] < final_body["created_at"]
    assert stale.headers["webhook-id"] == f"msg_{task_id}:{stale_body['created_at']}" != final.headers["webhook-id"]


@pytest.mark.parametrize(
    ("forge", "problem"),
    [(True, "No matching signature"), ("wrong_secret", "No matching signature"),
     ("no_signature", "Missing required headers"), ("stale_timestamp", "too old")],
)
def test_fault_webhook_forge(emulator: Emulator, receiver: WebhookReceiver, forge: object, problem: str) -> None:
    emulator.set_faults(webhook_forge=forge)
    _failing_task(emulator, receiver)
    [delivery] = receiver.wait_for(1)
    with pytest.raises(WebhookVerificationError, match=problem):
        Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
