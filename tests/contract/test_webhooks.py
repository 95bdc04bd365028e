"""Standard Webhooks verification: what the webhook Lambda accepts and what it refuses.

An independent HMAC computed here from the spec (not via the library) is the oracle for signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from faceswap.youcam import WebhookEvent, WebhookRejected, sign_webhook, verify_webhook

OLD_SECRET = "whsec_" + base64.b64encode(b"old-secret-old-secret-old-secret").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"new-secret-new-secret-new-secret").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"someone-else-entirely-0123456789").decode()
BODY = json.dumps({"created_at": 1767225600000, "data": {"task_id": "task-1", "task_status": "success"}}).encode()


def spec_signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def delivery(secret: str = NEW_SECRET, *, body: bytes = BODY, age: int = 0, msg_id: str = "msg_1") -> dict:
    timestamp = int(time.time()) - age
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": spec_signature(secret, msg_id, timestamp, body),
    }


def rejected(headers: dict, body: bytes = BODY, secrets: tuple[str, ...] = (NEW_SECRET,), **kw: int) -> str:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(headers, body, list(secrets), **kw)
    return str(caught.value)


def test_accepts_a_good_signature_and_returns_the_event() -> None:
    headers = delivery()
    event = verify_webhook(headers, BODY, [NEW_SECRET])
    assert event == WebhookEvent(
        webhook_id="msg_1",
        timestamp=int(headers["webhook-timestamp"]),
        task_id="task-1",
        task_status="success",
        created_at=1767225600000,
    )


@pytest.mark.parametrize("case", [str.upper, str.title, str.lower])
def test_header_names_are_case_insensitive(case: Callable[[str], str]) -> None:
    headers = {case(name): value for name, value in delivery().items()}
    assert verify_webhook(headers, BODY, [NEW_SECRET]).task_id == "task-1"


@pytest.mark.parametrize("signing_secret", [OLD_SECRET, NEW_SECRET])
def test_rotation_accepts_either_configured_secret(signing_secret: str) -> None:
    event = verify_webhook(delivery(signing_secret), BODY, [OLD_SECRET, NEW_SECRET])
    assert event.task_status == "success"


def test_accepts_when_any_of_several_listed_signatures_matches() -> None:
    headers = delivery(OTHER_SECRET)
    good = delivery(NEW_SECRET)["webhook-signature"]
    headers["webhook-signature"] = f"v1,{base64.b64encode(b'x' * 32).decode()} {headers['webhook-signature']} {good}"
    assert verify_webhook(headers, BODY, [NEW_SECRET]).webhook_id == "msg_1"


def test_rejects_a_signature_made_with_an_unknown_secret() -> None:
    assert rejected(delivery(OTHER_SECRET), secrets=(OLD_SECRET, NEW_SECRET)) == "bad signature"


def test_rejects_a_tampered_body() -> None:
    tampered = BODY.replace(b"success", b"error\x20\x20")
    assert rejected(delivery(), body=tampered) == "bad signature"


def test_rejects_a_tampered_webhook_id_or_timestamp() -> None:
    headers = delivery()
    assert rejected({**headers, "webhook-id": "msg_2"}) == "bad signature"
    restamped = str(int(headers["webhook-timestamp"]) - 1)
    assert rejected({**headers, "webhook-timestamp": restamped}) == "bad signature"


@pytest.mark.parametrize("signature", ["", "garbage", "v1,not*base64", "v2," + "A" * 44, "v1"])
def test_rejects_malformed_signature_headers(signature: str) -> None:
    headers = {**delivery(), "webhook-signature": signature}
    assert rejected(headers) in ("bad signature", "missing header webhook-signature")


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_rejects_a_missing_header(name: str) -> None:
    headers = delivery()
    del headers[name]
    assert rejected(headers) == f"missing header {name}"


def test_rejects_a_stale_delivery_but_accepts_one_inside_the_window() -> None:
    assert rejected(delivery(age=301)) == "stale webhook-timestamp"
    assert verify_webhook(delivery(age=240), BODY, [NEW_SECRET]).task_id == "task-1"


def test_rejects_a_delivery_from_the_future() -> None:
    assert rejected(delivery(age=-301)) == "webhook-timestamp in the future"
    assert verify_webhook(delivery(age=-30), BODY, [NEW_SECRET]).task_id == "task-1"


def test_tolerance_can_be_tightened_but_not_widened_past_the_library_window() -> None:
    assert rejected(delivery(age=120), tolerance_seconds=60) == "stale webhook-timestamp"
    assert rejected(delivery(age=400), tolerance_seconds=3600) == "stale webhook-timestamp"


@pytest.mark.parametrize("timestamp", ["yesterday", "1.5e9", "-5", "99999999999999999999"])
def test_rejects_a_malformed_timestamp(timestamp: str) -> None:
    assert rejected({**delivery(), "webhook-timestamp": timestamp}) == "malformed webhook-timestamp"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "body is not JSON"),
        (b"\xff\xfe", "body is not UTF-8"),
        (b"[]", "body has no data object"),
        (b'{"data": "task-1"}', "body has no data object"),
        (b'{"data": {"task_status": "success"}}', "body has no data.task_id"),
        (b'{"data": {"task_id": 7, "task_status": "success"}}', "body has no data.task_id"),
        (b'{"data": {"task_id": "t"}}', "body has no data.task_status"),
    ],
)
def test_rejects_well_signed_bodies_of_the_wrong_shape(body: bytes, reason: str) -> None:
    assert rejected(delivery(body=body), body=body) == reason


def test_rejections_never_echo_a_secret() -> None:
    reasons = [rejected(delivery(OTHER_SECRET)), rejected(delivery(age=999))]
    for reason in reasons:
        assert "whsec_" not in reason and NEW_SECRET.removeprefix("whsec_") not in reason


@pytest.mark.parametrize("secrets", [[], ["whsec_"], ["whsec_!!notbase64!!"], "whsec_abc"])
def test_unusable_secret_configuration_is_a_deployment_error(secrets: Any) -> None:
    with pytest.raises(ValueError) as caught:
        verify_webhook(delivery(), BODY, secrets)
    assert "notbase64" not in str(caught.value)


def test_sign_webhook_matches_the_spec_and_round_trips() -> None:
    now = int(time.time())
    headers = sign_webhook(NEW_SECRET, "msg_9", now, BODY)
    assert headers == {
        "webhook-id": "msg_9",
        "webhook-timestamp": str(now),
        "webhook-signature": spec_signature(NEW_SECRET, "msg_9", now, BODY),
    }
    assert verify_webhook(headers, BODY, [OLD_SECRET, NEW_SECRET]).webhook_id == "msg_9"
