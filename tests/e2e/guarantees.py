"""Shared tools of the guarantee tests (tests/e2e/test_guarantees_*.py): storm sizes, real events, direct invokes,
signed webhook deliveries, and a way to change one deployed function's environment for a test."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import requests
from botocore.config import Config

from faceswap.youcam.webhooks import sign_webhook
from local.eventually import eventually
from local.pipeline import JobView, LocalPipeline

# `make storm` sets it: the storms then run at the full size the guarantees name (CI runs them smaller).
FULL_STORMS = os.environ.get("FACESWAP_FULL_STORMS", "") == "1"
START = "PipelineIngestStartJob"
START_QUEUE = "PipelineIngestStartQueue"
START_DEAD_LETTERS = "PipelineIngestStartJobDeadLetters"
WEBHOOK = "PipelineWebhookIngressWebhook"


def storm_size(ci: int, full: int) -> int:
    return full if FULL_STORMS else ci


# --- jobs ----------------------------------------------------------------------------------------------------------
def upload_inputs(pipeline: LocalPipeline, video: Path, face: Path, video_key: str | None = None,
                  face_key: str | None = None) -> tuple[str, str]:
    s3 = pipeline.client("s3")
    video_key, face_key = video_key or f"videos/{video.name}", face_key or f"faces/{face.name}"
    s3.upload_file(str(video), pipeline.bucket, video_key)
    s3.upload_file(str(face), pipeline.bucket, face_key)
    return video_key, face_key


def put_manifest(pipeline: LocalPipeline, name: str, manifest: dict[str, Any] | bytes) -> str:
    body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    key = f"jobs/{name}.json"
    pipeline.client("s3").put_object(Bucket=pipeline.bucket, Key=key, Body=body)
    return key


def wait_for_job(pipeline: LocalPipeline, job_id: str, timeout: float = 60.0) -> JobView:
    """The job's view once it ended AND its result files are written.

    error.json of a run timeout or abort is written after the end (by the execution-failed rule): so wait for
    the end, then for the files.
    """
    deadline = time.monotonic() + timeout
    pipeline.wait_for_job(job_id, timeout=timeout)
    return eventually(lambda: view if (view := pipeline.view(job_id)).status or view.error else None,
                      max(0.0, deadline - time.monotonic()), interval=0.05, what=f"the result files of {job_id}")


def wait_for_jobs(pipeline: LocalPipeline, job_ids: list[str], timeout: float) -> dict[str, JobView]:
    """Every job's final view; one shared deadline, so a batch waits as long as its slowest job."""
    deadline = time.monotonic() + timeout
    return {job: wait_for_job(pipeline, job, timeout=max(1.0, deadline - time.monotonic())) for job in job_ids}


def executions_named(pipeline: LocalPipeline, name: str) -> list[dict[str, Any]]:
    sfn = pipeline.client("stepfunctions")
    found: list[dict[str, Any]] = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=pipeline.state_machine_arn):
        found += [e for e in page["executions"] if e["name"] == name]
    return found


def spend(pipeline: LocalPipeline) -> dict[str, int]:
    """What the vendor saw: files registered, tasks created, units charged."""
    stats = pipeline.emulator.stats()
    return {k: int(stats[k]) for k in ("files_created", "tasks_created", "units_charged")}


# --- the start function and its queue -------------------------------------------------------------------------------
def start_events_for(pipeline: LocalPipeline, key: str) -> list[dict[str, Any]]:
    """Each delivery of an S3 event naming `key` to the start function (through its queue or invoked directly): the
    S3 event, the message id and how often it was delivered, what the function did with it, and its error."""
    encoded = quote_plus(key, safe="")
    handled = handled_messages(pipeline)
    name = pipeline.stack.function_name(START)
    return [{"event": body, "message_id": record["messageId"], "request_id": i.request_id, "error": i.error,
             "receive_count": int(record["attributes"]["ApproximateReceiveCount"]),
             "actions": handled.get(record["messageId"], [])}
            for i in pipeline.stack.runtime.invocations if i.function_name == name
            for record in i.event.get("Records", []) for body in [_body(record)] if _event_key(body) == encoded]


def real_s3_event(pipeline: LocalPipeline, key: str, timeout: float = 30.0) -> dict[str, Any]:
    """The S3 event that S3 itself sent, through the start queue, for `key` (waits until the function got it)."""
    seen = eventually(lambda: start_events_for(pipeline, key) or None, timeout, interval=0.05,
                      what=f"a start invocation for {key}")
    return dict(seen[0]["event"])


def with_key(event: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of a real S3 event, for another object of the same bucket."""
    copy = json.loads(json.dumps(event))
    copy["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="")
    return dict(copy)


def sqs_event(body: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    """One message of the start queue as Lambda's poller hands it to the function."""
    return {"Records": [{
        "messageId": message_id or str(uuid.uuid4()), "receiptHandle": "direct-invoke", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000)),
                       "SenderId": "test", "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:test",
        "awsRegion": "us-east-1"}]}


def invoke_start(pipeline: LocalPipeline, events: list[dict[str, Any]], threads: int = 16) -> list[str]:
    """Deliver S3 events to the start function at once: even ones through its queue (as S3 delivering again), odd
    ones invoked directly as one-message batches. Returns what the function did with each direct one."""
    client = pipeline.stack.client("lambda", config=Config(max_pool_connections=threads))
    sqs = pipeline.stack.client("sqs", config=Config(max_pool_connections=threads))
    name, url = pipeline.stack.function_name(START), queue_url(pipeline, START_QUEUE)

    def deliver(numbered: tuple[int, dict[str, Any]]) -> str | None:
        index, event = numbered
        if index % 2 == 0:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
            return None
        message_id = str(uuid.uuid4())
        answer = client.invoke(FunctionName=name, Payload=json.dumps(sqs_event(event, message_id)).encode())
        payload = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer and not payload["batchItemFailures"], payload
        return "/".join(handled_messages(pipeline).get(message_id, ["none"]))

    with ThreadPoolExecutor(threads) as pool:
        return [answer for answer in pool.map(deliver, enumerate(events)) if answer is not None]


def queue_url(pipeline: LocalPipeline, queue_prefix: str) -> str:
    return pipeline.stack.deployed.resources[pipeline.stack.deployed.logical_id(queue_prefix, "AWS::SQS::Queue")]


def dead_letters(pipeline: LocalPipeline, queue_prefix: str = START_DEAD_LETTERS) -> list[dict[str, Any]]:
    """Receive (and delete) every message of one of the stack's dead-letter queues."""
    sqs = pipeline.client("sqs")
    url = queue_url(pipeline, queue_prefix)
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


@contextmanager
def visibility_timeout(pipeline: LocalPipeline, seconds: int) -> Iterator[None]:
    """The start queue's visibility timeout (how soon a message that failed or crashed comes back), restored
    afterwards. (Deployed, it is six times the function's timeout, as AWS asks.)"""
    sqs, url = pipeline.client("sqs"), queue_url(pipeline, START_QUEUE)
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=before)


def handled_messages(pipeline: LocalPipeline) -> dict[str, list[str]]:
    """message id -> what the start function did with it, from its "start message handled" log lines."""
    handled: dict[str, list[str]] = {}
    for line in pipeline.stack.runtime.log_lines(pipeline.stack.function_name(START)):
        if '"start message handled"' in line:
            entry = json.loads(line)
            handled.setdefault(str(entry["message_id"]), []).append(str(entry["action"]))
    return handled


def _body(record: dict[str, Any]) -> Any:
    try:
        return json.loads(record.get("body", ""))
    except ValueError:
        return None


def _event_key(event: Any) -> str | None:
    try:
        return str(event["Records"][0]["s3"]["object"]["key"])
    except (KeyError, IndexError, TypeError):
        return None


# --- one function's environment -------------------------------------------------------------------------------------
@contextmanager
def function_timeout(pipeline: LocalPipeline, function_prefix: str, seconds: int) -> Iterator[None]:
    """One function's timeout changed (new invocations run in fresh workers, killed at it). Restored afterwards."""
    client = pipeline.client("lambda")
    name = pipeline.stack.function_name(function_prefix)
    before = client.get_function_configuration(FunctionName=name)["Timeout"]
    client.update_function_configuration(FunctionName=name, Timeout=seconds)
    try:
        yield
    finally:
        client.update_function_configuration(FunctionName=name, Timeout=before)


# --- webhooks -------------------------------------------------------------------------------------------------------
def webhook_body(task_id: str, status: str = "success", created_at: int | None = None) -> bytes:
    payload = {"created_at": created_at or int(time.time()), "data": {"task_id": task_id, "task_status": status}}
    return json.dumps(payload, separators=(",", ":")).encode()


def signed(secret: str, body: bytes, webhook_id: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    headers = sign_webhook(secret, webhook_id or new_webhook_id(), timestamp or int(time.time()), body)
    return {"content-type": "application/json", **headers}


def new_webhook_id() -> str:
    return "msg_" + secrets.token_hex(12)


def random_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def post_webhook(pipeline: LocalPipeline, body: bytes, headers: dict[str, str],
                 session: requests.Session | None = None) -> requests.Response:
    return (session or requests).post(pipeline.webhook_url, data=body, headers=headers, timeout=30)


def outcome(response: requests.Response) -> str:
    """`accepted` when the delivery changed something, else the reason it did not (or the HTTP status)."""
    if response.status_code != 200:
        return str(response.status_code)
    body = response.json()
    return "accepted" if body.get("accepted") else str(body.get("outcome"))
