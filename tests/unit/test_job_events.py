"""Job events (faceswap.job_events): each change the real job store writes, read back from the table's stream (moto
in process), becomes the event docs/events.md describes, or none; rejected uploads publish through their own
outbox once per rejection."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from faceswap.claims import Claims, InputFacts
from faceswap.errors import ErrorReport
from faceswap.job_events import MAX_TEXT, REJECTION_TTL_SECONDS, JobEvents, JobStateChange, Rejections
from faceswap.jobs import JobSpec
from faceswap.records import JobStore

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
FACTS = InputFacts(video_bytes=1000, face_bytes=100, duration_seconds=3.0)
JOB = JobSpec("clip", "videos/clip.mp4", "faces/face.jpg", source_key="jobs/clip.json")
EVENTS = JobEvents("media", "results/")
NO_FACE = ErrorReport.for_vendor_task("error_no_face", "No face found in the source video.")


class Clock:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now


class Stream:
    """The jobs table's stream, read like Lambda reads it: every record since the last read, in order."""

    def __init__(self, table: Any) -> None:
        # The classic endpoint: moto 5.2.5 in process does not route botocore's account-based streams-ddb one.
        self._client = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        arn = table.latest_stream_arn
        shard = self._client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = self._client.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def images(self) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        page = self._client.get_records(ShardIterator=self._iterator)
        self._iterator = page["NextShardIterator"]
        return [(_plain(r["dynamodb"].get("OldImage")), _plain(r["dynamodb"].get("NewImage"))) for r in page["Records"]]

    def events(self) -> list[JobStateChange]:
        return [e for old, new in self.images() if (e := EVENTS.event_for(old, new)) is not None]


def _plain(image: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if image is None else {k: TypeDeserializer().deserialize(v) for k, v in image.items()}


@pytest.fixture
def table(in_process_aws: None) -> Any:
    return boto3.resource("dynamodb").create_table(
        TableName="jobs", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(table: Any, clock: Clock) -> JobStore:
    return JobStore(table, clock)


@pytest.fixture
def claims(table: Any, clock: Clock) -> Claims:
    return Claims(table, clock)


def submit(claims: Claims, clock: Clock, token: str) -> None:
    claims.mark_creating(JOB.job_id, token, clock.now)
    clock.now += 2
    claims.mark_submitted(JOB.job_id, token, "task-1", 1, 3.0, 5)


# --- what each change of a JOB# record publishes --------------------------------------------------------------------
def test_a_job_that_succeeds_publishes_started_then_succeeded(
        table: Any, claims: Claims, store: JobStore, clock: Clock) -> None:
    stream = Stream(table)
    claim = claims.claim(JOB, "req-1")
    submit(claims, clock, claim.token)
    clock.now += 30
    assert store.mark_succeeded(JOB.job_id, "results/clip/output.mp4")
    assert not store.mark_succeeded(JOB.job_id, "results/clip/output.mp4")  # Finalize retried: no second write

    started, succeeded = stream.events()
    assert json.loads(started.to_json()) == {
        "schemaVersion": "1", "jobId": "clip", "state": "STARTED", "sequence": 1, "bucket": "media", "name": "clip",
        "run": 1, "inputs": {"upload": "jobs/clip.json", "video": "videos/clip.mp4", "face": "faces/face.jpg"},
        "vendorTaskId": "task-1", "units": 1, "durationSeconds": 3.0,
        "timings": {"createdAt": "2025-10-09T08:53:20Z", "submittedAt": "2025-10-09T08:53:22Z"}}
    assert (succeeded.state, succeeded.sequence, succeeded.timings.finished_at) == ("SUCCEEDED", 2,
                                                                                    "2025-10-09T08:53:52Z")
    assert succeeded.results is not None and succeeded.results.model_dump(by_alias=True, exclude_none=True) == {
        "status": "results/clip/status.json", "output": "results/clip/output.mp4"}
    assert succeeded.error is None and succeeded.vendor_task_id == "task-1"


def test_a_vendor_failure_publishes_failed_once_with_what_to_fix(
        table: Any, claims: Claims, store: JobStore, clock: Clock) -> None:
    stream = Stream(table)
    submit(claims, clock, claims.claim(JOB, "req-1").token)
    assert store.mark_failed(JOB.job_id, NO_FACE)
    assert not store.mark_failed(JOB.job_id, ErrorReport("ExecutionAborted", "aborted", "stopped", "re-run"))

    started, failed = stream.events()
    assert (started.state, failed.state, failed.sequence) == ("STARTED", "FAILED", 2)
    assert failed.error is not None and json.loads(failed.to_json())["error"] == {
        "code": NO_FACE.code, "message": NO_FACE.message, "whatToFix": NO_FACE.what_to_fix,
        "errorClass": "NoFaceDetected", "vendorCode": "error_no_face"}
    assert failed.results is not None and (failed.results.error, failed.results.output) == (
        "results/clip/error.json", None)


def test_a_job_refused_before_its_task_publishes_failed_alone(table: Any, claims: Claims, store: JobStore) -> None:
    stream = Stream(table)
    claims.claim(JOB, "req-1")
    store.mark_failed(JOB.job_id, ErrorReport("MediaInvalid", "video_fps_too_high", "60 fps", "Use 30 fps"))
    [failed] = stream.events()
    assert (failed.state, failed.sequence, failed.vendor_task_id, failed.units) == ("FAILED", 1, None, None)


def test_claims_released_taken_over_or_marked_creating_publish_nothing(table: Any, claims: Claims,
                                                                       store: JobStore) -> None:
    stream = Stream(table)
    claim = claims.claim(JOB, "req-1")
    claims.release(JOB.job_id, claim.token)
    claims.claim(JOB, "req-2")
    existing = store.get(JOB.job_id)
    assert existing is not None
    taken = claims.take_over(JOB.job_id, existing, "req-3")
    assert taken is not None
    claims.mark_creating(JOB.job_id, taken[0], 0)
    changes = stream.images()
    assert len(changes) == 5 and [e for old, new in changes if (e := EVENTS.event_for(old, new))] == []


def test_queued_is_published_the_first_time_only_and_counts_in_the_sequence(table: Any, claims: Claims,
                                                                              store: JobStore, clock: Clock) -> None:
    """A job that waits in the start queue twice (faceswap.claims): one QUEUED, from the first time."""
    stream = Stream(table)
    token = claims.claim(JOB, "req-1").token
    claims.mark_queued(JOB.job_id, token, "qt-1", "no_free_slot", clock.now, FACTS)
    taken = claims.take_queued(JOB.job_id, "message-2", "qt-1")  # admitted, then out of create tokens
    assert taken is not None
    claims.mark_queued(JOB.job_id, taken[0], "qt-2", "no_rate_token", clock.now + 60, FACTS)
    taken = claims.take_queued(JOB.job_id, "message-3", "qt-2")
    assert taken is not None
    submit(claims, clock, taken[0])
    store.mark_succeeded(JOB.job_id, "results/clip/output.mp4")

    events = stream.events()
    assert [(e.state, e.sequence) for e in events] == [("QUEUED", 1), ("STARTED", 2), ("SUCCEEDED", 3)]
    assert (events[0].queue_reason, events[0].timings.queued_at) == ("no_free_slot", "2025-10-09T08:53:20Z")
    assert events[2].timings.queued_at == "2025-10-09T08:53:20Z" and events[2].queue_reason is None


def test_other_items_and_removals_publish_nothing(table: Any, claims: Claims, store: JobStore) -> None:
    stream = Stream(table)
    claims.claim(JOB, "req-1")
    store.mark_failed(JOB.job_id, NO_FACE)
    table.put_item(Item={"pk": "TASK#task-1", "job_id": "clip"})
    table.put_item(Item={"pk": "ADMISSION", "version": 1, "state": "FAILED"})
    table.delete_item(Key={"pk": "JOB#clip"})  # TTL expiry
    assert [e.state for e in stream.events()] == ["FAILED"]


def test_long_error_texts_are_clipped(table: Any, claims: Claims, store: JobStore) -> None:
    stream = Stream(table)
    claims.claim(JOB, "req-1")
    store.mark_failed(JOB.job_id, ErrorReport("X", "pipeline_error", "m" * 30_000, "f"))
    [failed] = stream.events()
    assert failed.error is not None and len(failed.error.message) == MAX_TEXT


# --- uploads rejected before any JOB# record: their own outbox ------------------------------------------------------
def test_a_rejected_upload_publishes_failed_once_per_rejection(table: Any, clock: Clock) -> None:
    stream = Stream(table)
    rejections = Rejections(table, clock)
    bad = ErrorReport("JobRejected", "manifest_invalid", "jobs/x.json is not JSON.", "Upload valid JSON.")
    assert rejections.record("x", "jobs/x.json", bad)
    assert not rejections.record("x", "jobs/x.json", bad)  # a duplicate notification, a retry, the same file
    other = ErrorReport("JobRejected", "manifest_invalid", "video is missing.", "Name the video.")
    assert rejections.record("x", "jobs/x.json", other)  # a different file under the same key
    clock.now += REJECTION_TTL_SECONDS + 1
    assert rejections.record("x", "jobs/x.json", other)  # past its expiry (TTL may not have deleted it yet)

    events = stream.events()
    assert [(e.state, e.sequence, e.rejected) for e in events] == [("FAILED", 1, True), ("FAILED", 2, True),
                                                                     ("FAILED", 3, True)]
    assert json.loads(events[0].to_json()) == {
        "schemaVersion": "1", "jobId": "x", "state": "FAILED", "sequence": 1, "bucket": "media", "rejected": True,
        "inputs": {"upload": "jobs/x.json"},
        "results": {"status": "results/x/status.json", "error": "results/x/error.json"},
        "timings": {"createdAt": "2025-10-09T08:53:20Z", "finishedAt": "2025-10-09T08:53:20Z"},
        "error": {"code": "manifest_invalid", "message": "jobs/x.json is not JSON.", "whatToFix": "Upload valid JSON.",
                  "errorClass": "JobRejected"}}
    table.delete_item(Key={"pk": "REJECTED#jobs/x.json"})  # TTL
    assert stream.events() == []


# --- the documentation -----------------------------------------------------------------------------------------------
def test_every_example_in_the_documentation_is_an_event_the_publisher_sends() -> None:
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOCS.read_text(), re.S)]
    events = [e for e in examples if e.get("detail-type") == "FaceSwap Job State Change"]
    assert {e["detail"]["state"] for e in events} == {"QUEUED", "STARTED", "SUCCEEDED", "FAILED"}
    assert any(e["detail"].get("rejected") for e in events)
    for event in events:
        assert event["source"] == "faceswap"
        detail = JobStateChange.model_validate(event["detail"])
        assert json.loads(detail.to_json()) == event["detail"], "field names and types as the publisher writes them"
