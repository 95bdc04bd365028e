"""Verify the vendor's Standard Webhooks deliveries (and sign test deliveries) with `standardwebhooks`.

Signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`, HMAC-SHA256 with the base64 key after
`whsec_`; `webhook-signature` lists `v1,<base64>` entries separated by spaces. The library compares in
constant time and enforces a FIXED 5-minute window both ways (no parameter). `tolerance_seconds` is
checked here first, so it can only tighten that window: values above 300 behave as 300.

Several secrets may be configured during a rotation: a delivery signed with any of them is accepted.
The body is thin; trust the status API, not `task_status` (see the pipeline's webhook handler).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LIBRARY_TOLERANCE_SECONDS = 300
REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_BODY_BYTES = 256 * 1024  # the documented body is ~150 bytes; refuse to parse anything huge


class WebhookRejected(Exception):
    """A delivery that must not be acted upon. The message is a short reason, safe to log and return."""


@dataclass(frozen=True)
class WebhookEvent:
    webhook_id: str  # stable across retries of one delivery: the dedupe key
    timestamp: int  # unix seconds, from the webhook-timestamp header
    task_id: str
    task_status: str  # a hint only ("success" / "error")
    created_at: Any  # as the vendor sent it (number or string)


def verify_webhook(
    headers: Mapping[str, str],
    raw_body: bytes,
    secrets: Sequence[str],
    *,
    tolerance_seconds: int = LIBRARY_TOLERANCE_SECONDS,
) -> WebhookEvent:
    """Return the event if the delivery is authentic, fresh and well-formed; else raise WebhookRejected.

    Header names are matched case-insensitively. Raises ValueError if no usable secret is configured
    (a deployment error, not a bad delivery).
    """
    verifiers = _verifiers(secrets)
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    missing = [name for name in REQUIRED_HEADERS if not lowered.get(name, "").strip()]
    if missing:
        raise WebhookRejected(f"missing header {missing[0]}")
    timestamp = _fresh_timestamp(lowered["webhook-timestamp"], tolerance_seconds)
    if len(raw_body) > MAX_BODY_BYTES:
        raise WebhookRejected("body too large")
    signed = {name: lowered[name] for name in REQUIRED_HEADERS}
    payload = _first_verified(verifiers, raw_body, signed)
    return _event(lowered["webhook-id"], timestamp, payload)


def sign_webhook(secret: str, webhook_id: str, timestamp: int | datetime, body: bytes | str) -> dict[str, str]:
    """Headers of a delivery of `body` signed with `secret` (for tests, the emulator and the CLI)."""
    when = timestamp if isinstance(timestamp, datetime) else datetime.fromtimestamp(timestamp, tz=UTC)
    text = body.decode() if isinstance(body, bytes) else body
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, when, text),
    }


def _verifiers(secrets: Sequence[str]) -> list[Webhook]:
    if isinstance(secrets, str) or not secrets:
        raise ValueError("configure webhook secrets as a non-empty list")
    verifiers = []
    for position, secret in enumerate(secrets):
        try:
            verifiers.append(Webhook(secret))
        except Exception as exc:  # empty or not base64: never echo the secret itself
            raise ValueError(f"webhook secret #{position} is not a valid whsec_ secret") from exc
    return verifiers


def _fresh_timestamp(raw: str, tolerance_seconds: int) -> int:
    value = raw.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise WebhookRejected("malformed webhook-timestamp")
    timestamp = int(value)
    skew = timestamp - time.time()
    tolerance = min(tolerance_seconds, LIBRARY_TOLERANCE_SECONDS)
    if skew < -tolerance:
        raise WebhookRejected("stale webhook-timestamp")
    if skew > tolerance:
        raise WebhookRejected("webhook-timestamp in the future")
    return timestamp


def _first_verified(verifiers: Sequence[Webhook], raw_body: bytes, headers: dict[str, str]) -> Any:
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookRejected("body is not UTF-8") from exc
    for verifier in verifiers:
        try:
            verifier.verify(text, headers, json_parse=False)
        except (WebhookVerificationError, ValueError):
            # ValueError: a malformed signature list (no comma, bad base64) is just "no match".
            continue
        return _parse_json(text)
    raise WebhookRejected("bad signature")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise WebhookRejected("body is not JSON") from exc


def _event(webhook_id: str, timestamp: int, payload: Any) -> WebhookEvent:
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, Mapping):
        raise WebhookRejected("body has no data object")
    task_id, task_status = data.get("task_id"), data.get("task_status")
    if not isinstance(task_id, str) or not task_id.strip():
        raise WebhookRejected("body has no data.task_id")
    if not isinstance(task_status, str) or not task_status.strip():
        raise WebhookRejected("body has no data.task_status")
    return WebhookEvent(
        webhook_id=webhook_id,
        timestamp=timestamp,
        task_id=task_id,
        task_status=task_status,
        created_at=payload.get("created_at"),
    )
