"""Guarantee: no forged or replayed webhook is ever accepted, and valid ones that come twice, late or out of order
change nothing.

"Accepted" means the delivery changed something: the webhook function answered 200 with `"accepted": true`
(outcome `signalled`: it sent SendTaskSuccess, or `waiting_for_token`: it stored the status for the token to come).
Everything else is answered without effect: 4xx for anything unauthentic or malformed, 200 with `accepted: false`
and an `outcome` (`duplicate`, `already_done`, `not_final`, `unknown_task`) for authentic deliveries that have
nothing left to do. All requests go over HTTP to the local API Gateway front (`pipeline.webhook_url`).
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from local.eventually import eventually
from local.pipeline import LocalPipeline
from tests.e2e.guarantees import (
    new_webhook_id,
    outcome,
    post_webhook,
    random_secret,
    signed,
    storm_size,
    wait_for_job,
    webhook_body,
)
from tests.media import Media

BAD_REQUESTS = storm_size(ci=400, full=1200)
STALE = 6 * 60  # beyond the 5-minute window, both ways


@dataclass(frozen=True)
class Attack:
    kind: str
    body: bytes
    headers: dict[str, str]
    expected: frozenset[str]  # what outcome(response) may be: an HTTP status, or a no-effect outcome


@pytest.mark.slow
def test_a_storm_of_forged_replayed_and_malformed_webhooks_is_never_accepted(pipeline: LocalPipeline,
                                                                             media: Media) -> None:
    secret = pipeline.emulator.config.webhook_secret
    replayed = _processed_delivery(pipeline, media, secret)
    pipeline.emulator.set_faults(never_finish=True)
    pipeline.emulator.config.polling_interval_seconds = 60  # few polls meanwhile: only the storm talks to it
    job = pipeline.submit("g-storm-target", media.clip, media.face)
    target = _task_id_when_running(pipeline, job)

    attacks = _attacks(random.Random(4), secret, target, replayed, BAD_REQUESTS)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda a: (a, _send(pipeline, a)), attacks))
    elapsed = time.monotonic() - started

    seen = Counter(f"{attack.kind}:{got}" for attack, got in answers)
    unexpected = [f"{a.kind} -> {got}" for a, got in answers if got not in a.expected]
    assert unexpected == [], f"{seen} in {elapsed:.1f} s"
    assert not any(got == "accepted" or got.startswith("5") for _, got in answers)
    assert len(answers) >= BAD_REQUESTS
    # Nothing moved: the execution still runs and still waits for its token, no status or delivery id was stored.
    assert pipeline.execution_status(job) == "RUNNING"
    assert pipeline.ended_by(job) is None and "Finalize" not in pipeline.entered_states(job)
    task_item = _task_item(pipeline, target)
    assert "callback_token" in task_item and "webhook_status" not in task_item and "webhook_ids" not in task_item
    record = pipeline.job_record(job)
    assert record is not None and record["state"]["S"] == "SUBMITTED"
    pipeline.emulator.expire_task(target)  # ends the job at its next poll (vendor_task_expired)


def test_valid_deliveries_twice_late_or_out_of_order_change_nothing(pipeline: LocalPipeline, media: Media) -> None:
    emulator = pipeline.emulator
    # Twice and out of order, while the job runs: final, the same delivery again, then a stale "running" one.
    emulator.set_faults(webhook_duplicate=True, webhook_out_of_order=True)
    emulator.config.polling_interval_seconds = 120  # 6 s locally: the webhook ends this one
    twice = wait_for_job(pipeline, pipeline.submit("g-wh-twice", media.clip, media.face))
    # Late: polling ends the job first; every delivery comes after it ended.
    emulator.set_faults(webhook_delay_seconds=3.0)
    emulator.config.polling_interval_seconds = 1
    late = wait_for_job(pipeline, pipeline.submit("g-wh-late", media.clip, media.face))
    deliveries = emulator.wait_for_webhooks(6, timeout=30)

    assert twice.execution_status == late.execution_status == "SUCCEEDED"
    assert pipeline.ended_by(twice.job_id) == "webhook"
    assert pipeline.ended_by(late.job_id) == "polling"
    assert sorted(d["kind"] for d in deliveries) == ["duplicate", "duplicate", "final", "final", "stale", "stale"]
    assert all(d["status_code"] == 200 for d in deliveries), deliveries
    assert emulator.stats()["tasks_created"] == 2

    # The same, sent by hand so that the answers can be read: nothing is accepted, and nothing changes.
    before = {v.job_id: (v.status, len(pipeline.history(v.job_id))) for v in (twice, late)}
    secret = emulator.config.webhook_secret
    for view in (twice, late):
        assert view.status is not None
        task_id = view.status["task_id"]
        body = webhook_body(task_id)
        headers = signed(secret, body)
        assert outcome(post_webhook(pipeline, body, headers)) == "already_done"  # late: the wait had ended
        assert outcome(post_webhook(pipeline, body, headers)) == "duplicate"  # the same delivery twice
        stale = webhook_body(task_id, "running", created_at=int(time.time()) - 60)
        assert outcome(post_webhook(pipeline, stale, signed(secret, stale))) == "not_final"  # out of order
    after = {v.job_id: (pipeline.view(v.job_id).status, len(pipeline.history(v.job_id))) for v in (twice, late)}
    assert after == before
    for view in (twice, late):
        record = pipeline.job_record(view.job_id)
        assert record is not None and record["state"]["S"] == "SUCCEEDED"


# --- the storm -----------------------------------------------------------------------------------------------------
def _attacks(rng: random.Random, secret: str, target: str, replayed: tuple[bytes, dict[str, str]],
             count: int) -> list[Attack]:
    makers: list[Callable[[random.Random, str, str], Attack]] = [
        _wrong_signature, _wrong_secret, _stale, _future, _tampered, _missing_header, _empty_header, _malformed,
        _not_json, _unknown_task, _resigned_id]
    attacks = [Attack("replayed", replayed[0], replayed[1], frozenset({"duplicate"}))]
    attacks += [_too_big(secret, target, 100 * 1024, "413"), _too_big(secret, target, 11 * 1024 * 1024, "413")]
    while len(attacks) < count:
        attacks.append(makers[len(attacks) % len(makers)](rng, secret, target))
        if len(attacks) % 10 == 0:  # the captured valid delivery, replayed within its 5 minutes
            attacks.append(Attack("replayed", replayed[0], replayed[1], frozenset({"duplicate"})))
    return attacks


def _forged(kind: str, body: bytes, headers: dict[str, str], *expected: str) -> Attack:
    return Attack(kind, body, headers, frozenset(expected or ("401",)))


def _wrong_signature(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)
    headers = signed(secret, body)
    headers["webhook-signature"] = "v1," + base64.b64encode(rng.randbytes(32)).decode()
    return _forged("wrong_signature", body, headers)


def _wrong_secret(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)
    return _forged("wrong_secret", body, signed(random_secret(), body))


def _stale(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)
    return _forged("stale", body, signed(secret, body, timestamp=int(time.time()) - rng.randint(STALE, 86400)))


def _future(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)
    return _forged("future", body, signed(secret, body, timestamp=int(time.time()) + rng.randint(STALE, 86400)))


def _tampered(rng: random.Random, secret: str, target: str) -> Attack:
    signed_body = webhook_body("task-we-never-created")
    tampered = signed_body.replace(b"task-we-never-created", target.encode())
    return _forged("tampered", tampered, signed(secret, signed_body))


def _missing_header(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)
    headers = signed(secret, body)
    del headers[rng.choice(["webhook-id", "webhook-timestamp", "webhook-signature"])]
    return _forged("missing_header", body, headers, "400")  # API Gateway's required-header check


def _empty_header(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)
    headers = signed(secret, body)
    headers[rng.choice(["webhook-id", "webhook-timestamp", "webhook-signature"])] = rng.choice(["", "0", "v1"])
    return _forged("empty_or_junk_header", body, headers, "400", "401")


def _malformed(rng: random.Random, secret: str, target: str) -> Attack:
    body = rng.choice([b"{", b"null", b"[]", b'{"data": "x"}', b'{"data": {"task_id": 7}}', b""])
    return _forged("malformed", body, signed(secret, body))


def _not_json(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)[:-1]  # one byte short: signed correctly, but not JSON
    return _forged("not_json", body, signed(secret, body))


def _unknown_task(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(secrets.token_urlsafe(48))
    return Attack("unknown_task", body, signed(secret, body), frozenset({"unknown_task"}))


def _resigned_id(rng: random.Random, secret: str, target: str) -> Attack:
    body = webhook_body(target)
    headers = signed(secret, webhook_body("task-we-never-created"))
    headers["webhook-id"] = new_webhook_id()  # a signature lifted from another delivery
    return _forged("lifted_signature", body, headers)


def _too_big(secret: str, target: str, size: int, expected: str) -> Attack:
    payload = json.loads(webhook_body(target))
    payload["padding"] = "x" * size
    body = json.dumps(payload).encode()
    return _forged(f"huge_{size // 1024}k", body, signed(secret, body), expected)


def _send(pipeline: LocalPipeline, attack: Attack) -> str:
    # Over 10 MB the front answers 413 and drops the connection: send that one on a connection of its own.
    session = _session() if len(attack.body) < 1024 * 1024 else None
    return outcome(post_webhook(pipeline, attack.body, attack.headers, session))


_local = threading.local()


def _session() -> requests.Session:
    """One keep-alive session per storm thread."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    session: requests.Session = _local.session
    return session


# --- helpers -------------------------------------------------------------------------------------------------------
def _processed_delivery(pipeline: LocalPipeline, media: Media, secret: str) -> tuple[bytes, dict[str, str]]:
    """A valid delivery the endpoint has already processed (for a finished job): the one to replay."""
    view = wait_for_job(pipeline, pipeline.submit("g-storm-replayed", media.clip, media.face), timeout=60)
    assert view.status is not None
    body = webhook_body(view.status["task_id"])
    headers = signed(secret, body)
    assert outcome(post_webhook(pipeline, body, headers)) == "already_done"
    return body, headers


def _task_id_when_running(pipeline: LocalPipeline, job: str, timeout: float = 30.0) -> str:
    """The job's vendor task id, once the webhook branch is waiting for it (its token is stored)."""
    def waiting() -> str | None:
        record = pipeline.job_record(job)
        if record and "task_id" in record and "callback_token" in _task_item(pipeline, record["task_id"]["S"]):
            return str(record["task_id"]["S"])
        return None

    return eventually(waiting, timeout, what=f"{job} to wait for its webhook")


def _task_item(pipeline: LocalPipeline, task_id: str) -> dict[str, Any]:
    table = pipeline.stack.outputs["JobsTableName"]
    item = pipeline.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"TASK#{task_id}"}},
                                                ConsistentRead=True).get("Item")
    return dict(item or {})

