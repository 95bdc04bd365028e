"""The events that start functions, parsed with Powertools' parser: messages of the start queue (S3 uploads as AWS
and the local stack send them, S3's test event, a job that waited), and an execution's status change from
EventBridge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from pydantic import TypeAdapter, ValidationError

from faceswap.events import ExecutionStatusChange, QueuedStart, S3TestEvent, StartQueueRecord, UploadEvent

EVENTS = Path(__file__).resolve().parents[2] / "events"
START_MESSAGE = TypeAdapter(StartQueueRecord)  # what the start function's batch processor parses each record with


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


def test_start_queue_messages_are_uploads_the_test_event_or_a_waiting_job() -> None:
    upload = START_MESSAGE.validate_python(_sample("sqs-start-manifest.json")["Records"][0])
    assert isinstance(upload.body, UploadEvent) and [r.key for r in upload.body.Records] == ["jobs/demo.json"]
    waiting = START_MESSAGE.validate_python(_sample("sqs-start-queued.json")["Records"][0])
    assert isinstance(waiting.body, QueuedStart)
    assert (waiting.body.job.name, waiting.body.ticket.number, waiting.body.reason) == ("demo", 7, "no_free_slot")
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-25T12:00:00.000Z",
                  "Bucket": "media", "RequestId": "R", "HostId": "H"}
    record = _sample("sqs-start-manifest.json")["Records"][0] | {"body": json.dumps(test_event)}
    assert isinstance(START_MESSAGE.validate_python(record).body, S3TestEvent)


def test_a_message_that_is_none_of_them_is_refused() -> None:
    record = _sample("sqs-start-manifest.json")["Records"][0]
    for body in ('{"Records": "none"}', "not json", '{"queued_start": 1}'):
        with pytest.raises(ValidationError):
            START_MESSAGE.validate_python(record | {"body": body})


def test_an_execution_status_change_gives_the_job_the_status_and_the_task() -> None:
    change = parse(event=_sample("execution-failed.json"), model=ExecutionStatusChange)
    detail = change.detail
    assert (detail.name, detail.status, detail.error, detail.cause) == ("demo", "TIMED_OUT", "States.Timeout", None)
    assert detail.task_id() == "TASK_ID"
    for unreadable in (None, "", "not json", "[1]", '{"job_id": "demo"}'):
        assert detail.model_copy(update={"input": unreadable}).task_id() is None
