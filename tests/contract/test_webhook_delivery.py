"""Deliveries signed by the emulator (Standard Webhooks, like the vendor) pass or fail verify_webhook."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faceswap.youcam import WebhookRejected, YouCamClient, verify_webhook
from local.emulator import DEFAULT_WEBHOOK_SECRET, Emulator, EmulatorConfig
from tests.contract.conftest import API_KEY, Inputs, fast_settings, upload_media

ROTATED_SECRET = "whsec_" + base64.b64encode(b"rotated-secret-rotated-secret-01").decode()
UNRELATED_SECRET = "whsec_" + base64.b64encode(b"unrelated-secret-unrelated-secr1").decode()


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ReceiverServer

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver)
        self.received: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture(scope="module")
def receiver() -> Iterator[_ReceiverServer]:
    httpd = _ReceiverServer()
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def hook_emulator(receiver: _ReceiverServer) -> Iterator[Emulator]:
    # The emulator signs with its secret and the rotated one: the receiver may hold either.
    config = EmulatorConfig(
        api_key=API_KEY,
        webhook_urls=[f"http://127.0.0.1:{receiver.server_address[1]}/webhook"],
        extra_webhook_secrets=[ROTATED_SECRET],
    )
    with Emulator(config) as emulator:
        yield emulator


def deliveries_of_one_failed_task(
    emulator: Emulator, receiver: _ReceiverServer, inputs: Inputs, count: int = 1, **faults: object
) -> list[tuple[dict[str, str], bytes]]:
    emulator.reset()
    receiver.received.clear()
    emulator.set_faults(task_error_code="error_inference", **faults)
    with YouCamClient(API_KEY, fast_settings(emulator.base_url)) as client:
        video_id, image_id = upload_media(client, inputs)
        task_id = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=2).task_id
    emulator.wait_for_webhooks(count, timeout=10)
    assert len(receiver.received) == count
    assert all(task_id.encode() in body for _, body in receiver.received)
    return receiver.received


@pytest.mark.parametrize(
    "secrets",
    [[DEFAULT_WEBHOOK_SECRET], [ROTATED_SECRET], [UNRELATED_SECRET, ROTATED_SECRET]],
    ids=["current", "rotated", "unrelated-then-rotated"],
)
def test_a_genuine_delivery_verifies_with_any_configured_secret(
    hook_emulator: Emulator, receiver: _ReceiverServer, inputs: Inputs, secrets: list[str]
) -> None:
    [(headers, body)] = deliveries_of_one_failed_task(hook_emulator, receiver, inputs)
    event = verify_webhook(headers, body, secrets)
    assert event.task_status == "error" and event.webhook_id.startswith("msg_")


def test_a_duplicate_delivery_keeps_its_webhook_id(
    hook_emulator: Emulator, receiver: _ReceiverServer, inputs: Inputs
) -> None:
    received = deliveries_of_one_failed_task(hook_emulator, receiver, inputs, count=2, webhook_duplicate=True)
    first, second = (verify_webhook(h, b, [DEFAULT_WEBHOOK_SECRET]) for h, b in received)
    assert first.webhook_id == second.webhook_id and first.task_id == second.task_id


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        ("wrong_secret", "bad signature"),
        ("stale_timestamp", "stale webhook-timestamp"),
        ("no_signature", "missing header webhook-signature"),
    ],
)
def test_forged_deliveries_are_rejected(
    hook_emulator: Emulator, receiver: _ReceiverServer, inputs: Inputs, forge: str, reason: str
) -> None:
    [(headers, body)] = deliveries_of_one_failed_task(hook_emulator, receiver, inputs, webhook_forge=forge)
    with pytest.raises(WebhookRejected, match=reason):
        verify_webhook(headers, body, [DEFAULT_WEBHOOK_SECRET, ROTATED_SECRET])
