"""The events that start functions, parsed with Powertools' parser: S3 uploads (as AWS and the local stack send
them, and as a replayed dead letter), and an execution's status change from EventBridge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from pydantic import TypeAdapter, ValidationError

from faceswap.events import ExecutionStatusChange, UploadDeadLetter, UploadEvent

EVENTS = Path(__file__).resolve().parents[2] / "events"
START_EVENT = TypeAdapter(UploadEvent | UploadDeadLetter)  # what the start function's parser is given


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def _local_stack_upload(key: str) -> dict[str, Any]:
    """What moto 5.2.5 sends the start function: no userIdentity, request parameters or bucket owner."""
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventTime": "2026-11-25T12:00:00.000Z", "eventName": "ObjectCreated:Put",
                         "s3": {"s3SchemaVersion": "1.0", "configurationId": "c1",
                                "bucket": {"name": "media", "arn": "arn:aws:s3:::media"},
                                "object": {"key": key, "size": 10, "eTag": "abc"}}}]}


def test_uploads_from_aws_and_from_the_local_stack_give_the_decoded_key() -> None:
    sample = parse(event=_sample("s3-put-video-with-face-key.json"), model=UploadEvent)
    assert [(r.bucket, r.key) for r in sample.Records] == [("BUCKET", "videos/holiday clip.mp4")]
    local = parse(event=_local_stack_upload("jobs%2Fa+b.json"), model=UploadEvent)
    assert [(r.bucket, r.key) for r in local.Records] == [("media", "jobs/a b.json")]


def test_a_replayed_dead_letter_names_the_attempts_that_ended() -> None:
    letter = {"version": "1.0", "timestamp": "2026-11-25T12:00:00.000Z",
              "requestContext": {"requestId": "req-1", "functionArn": "arn", "condition": "RetriesExhausted",
                                 "approximateInvokeCount": 3},
              "requestPayload": _sample("s3-put-manifest.json"), "responseContext": {"statusCode": 200}}
    parsed = START_EVENT.validate_python(letter)
    assert isinstance(parsed, UploadDeadLetter) and parsed.requestContext.requestId == "req-1"
    assert [r.key for r in parsed.requestPayload.Records] == ["jobs/demo.json"]
    assert isinstance(START_EVENT.validate_python(_sample("s3-put-manifest.json")), UploadEvent)


def test_an_event_that_is_no_upload_is_refused() -> None:
    with pytest.raises(ValidationError):
        START_EVENT.validate_python({"Records": "none", "requestPayload": {}})


def test_an_execution_status_change_gives_the_job_the_status_and_the_task() -> None:
    change = parse(event=_sample("execution-failed.json"), model=ExecutionStatusChange)
    detail = change.detail
    assert (detail.name, detail.status, detail.error, detail.cause) == ("demo", "TIMED_OUT", "States.Timeout", None)
    assert detail.task_id() == "TASK_ID"
    for unreadable in (None, "", "not json", "[1]", '{"job_id": "demo"}'):
        assert detail.model_copy(update={"input": unreadable}).task_id() is None
