"""Publishing job events (faceswap.event_bus and the PublishJobEvents handler): in the stream's order, entries that
EventBridge refuses one by one retried alone, and a batch that cannot be published reported from its first
unpublished record, with nothing after it sent. EventBridge's per-entry refusals come from botocore's Stubber (moto
refuses only malformed entries); the happy path goes through moto's EventBridge to an SQS queue."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from faceswap import aws as faceswap_aws
from faceswap import wiring
from faceswap.claims import Claims
from faceswap.errors import ErrorReport
from faceswap.event_bus import MAX_ENTRIES, EventPublisher, Outgoing
from faceswap.job_events import JobStateChange, Rejections
from faceswap.jobs import JobSpec
from faceswap.records import JobStore
from local.aws.stream_poller import stream_record

WHEN = datetime.datetime(2025, 10, 9, 8, 53, 20, tzinfo=datetime.UTC)


def item(n: int, state: str = "STARTED") -> Outgoing:
    return Outgoing(f"seq-{n:03d}", JobStateChange.model_validate(
        {"jobId": f"job-{n}", "state": state, "sequence": 1, "bucket": "media"}), WHEN)


def ok(count: int) -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": f"e{i}"} for i in range(count)]}


def refused(results: str) -> dict[str, Any]:
    """One entry result per letter: o published, x refused (throttled)."""
    entries = [{"EventId": "e"} if r == "o" else {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
               for r in results]
    return {"FailedEntryCount": results.count("x"), "Entries": entries}


def sent(items: list[Outgoing]) -> dict[str, Any]:
    return {"Entries": [{"Source": "faceswap", "DetailType": "FaceSwap Job State Change", "EventBusName": "jobs",
                         "Detail": i.event.to_json(), "Time": ANY} for i in items]}


@pytest.fixture
def stubbed() -> Iterator[tuple[EventPublisher, Stubber, list[float]]]:
    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    sleeps: list[float] = []
    with Stubber(client) as stubber:
        yield EventPublisher(client, "jobs", sleep=sleeps.append), stubber, sleeps
        stubber.assert_no_pending_responses()


def test_events_go_out_in_order_ten_a_call(stubbed: tuple[EventPublisher, Stubber, list[float]]) -> None:
    publisher, stubber, sleeps = stubbed
    items = [item(n) for n in range(12)]
    stubber.add_response("put_events", ok(MAX_ENTRIES), sent(items[:MAX_ENTRIES]))
    stubber.add_response("put_events", ok(2), sent(items[MAX_ENTRIES:]))
    assert publisher.publish(items) == 12 and sleeps == []


def test_entries_refused_one_by_one_are_retried_alone(stubbed: tuple[EventPublisher, Stubber, list[float]]) -> None:
    publisher, stubber, sleeps = stubbed
    items = [item(n) for n in range(4)]
    stubber.add_response("put_events", refused("oxox"), sent(items))
    stubber.add_response("put_events", refused("ox"), sent([items[1], items[3]]))  # no duplicate of 0 or 2
    stubber.add_response("put_events", ok(1), sent([items[3]]))
    assert publisher.publish(items) == 4 and sleeps == [0.2, 0.4]


def test_an_entry_still_refused_stops_the_batch_there(stubbed: tuple[EventPublisher, Stubber, list[float]]) -> None:
    publisher, stubber, _ = stubbed
    items = [item(n) for n in range(14)]
    stubber.add_response("put_events", refused("ooxoooooox"), sent(items[:MAX_ENTRIES]))
    stubber.add_response("put_events", refused("xo"), sent([items[2], items[9]]))
    stubber.add_response("put_events", refused("x"), sent([items[2]]))
    # Lambda retries from items[2]: items[3..9] (published, the same call) come again; 10..13 were never sent.
    assert publisher.publish(items) == 2


def test_a_failed_call_stops_the_batch_at_its_first_pending_entry(
        stubbed: tuple[EventPublisher, Stubber, list[float]]) -> None:
    publisher, stubber, _ = stubbed
    items = [item(n) for n in range(3)]
    stubber.add_response("put_events", refused("oxo"), sent(items))
    stubber.add_client_error("put_events", "InternalException", http_status_code=500)
    assert publisher.publish(items) == 1
    stubber.add_client_error("put_events", "ThrottlingException", http_status_code=400)
    assert publisher.publish(items) == 0


def test_nothing_to_publish_calls_nothing(stubbed: tuple[EventPublisher, Stubber, list[float]]) -> None:
    assert stubbed[0].publish([]) == 0


# --- through moto's EventBridge: the envelope a rule's target receives ----------------------------------------------
def queue_for_rule(pattern: dict[str, Any]) -> tuple[Any, str]:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="job-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="jobs", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="jobs", Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url


def test_a_rule_on_the_source_and_state_receives_the_documented_envelope(in_process_aws: None) -> None:
    sqs, url = queue_for_rule({"source": ["faceswap"], "detail-type": ["FaceSwap Job State Change"],
                               "detail": {"state": ["FAILED"]}})
    items = [item(1, "STARTED"), item(2, "FAILED")]
    assert EventPublisher(boto3.client("events"), "default").publish(items) == 2

    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "faceswap", "FaceSwap Job State Change", {"schemaVersion": "1", "jobId": "job-2", "state": "FAILED",
                                                  "sequence": 1, "bucket": "media", "inputs": {},
                                                  "timings": {}})
    assert event["time"] in (WHEN.timestamp(), WHEN.strftime("%Y-%m-%dT%H:%M:%SZ"))  # when the record changed


# --- the handler: a stream batch in, events and a partial batch response out ----------------------------------------
class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "publish-job-events", 256, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:publish-job-events"


@pytest.fixture
def stream_batch(in_process_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A job that succeeded and an upload that was rejected, as Lambda hands the table's stream to the function."""
    for name, value in {"BUCKET_NAME": "media", "RESULTS_PREFIX": "results/", "EVENT_BUS_NAME": "default",
                        "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_NAMESPACE": "FaceSwapTest"}.items():
        monkeypatch.setenv(name, value)
    table = boto3.resource("dynamodb").create_table(
        TableName="jobs", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    claims = Claims(table, time.time)
    token = claims.claim(JobSpec("clip", "videos/clip.mp4", "faces/face.jpg"), "req-1").token
    claims.mark_creating("clip", token, time.time())
    claims.mark_submitted("clip", token, "task-1", 1, 3.0, 5)
    JobStore(table).mark_succeeded("clip", "results/clip/output.mp4")
    Rejections(table).record("bad", "jobs/bad.json", ErrorReport("JobRejected", "manifest_invalid", "m", "f"))
    _clear_caches()
    yield {"Records": _stream_records(table.latest_stream_arn)}
    _clear_caches()


def _stream_records(arn: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return [stream_record(r, arn) for r in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]]


def _clear_caches() -> None:
    for cached in (faceswap_aws.settings, faceswap_aws.events, wiring.job_events, wiring.event_publisher):
        getattr(cached, "cache_clear", lambda: None)()  # (a test may have replaced one)


def test_the_handler_publishes_each_change_of_the_batch_in_order(stream_batch: dict[str, Any]) -> None:
    from publish_job_events.app import lambda_handler

    sqs, url = queue_for_rule({"source": ["faceswap"]})
    assert lambda_handler(stream_batch, _Context()) == {"batchItemFailures": []}
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert [(b["detail"]["jobId"], b["detail"]["state"], b["detail"]["sequence"]) for b in bodies] == [
        ("clip", "STARTED", 1), ("clip", "SUCCEEDED", 2), ("bad", "FAILED", 1)]


def test_the_handler_reports_the_first_record_it_could_not_publish(stream_batch: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from publish_job_events.app import lambda_handler

    client = boto3.client("events")
    publisher = EventPublisher(client, "default", sleep=lambda _: None)
    monkeypatch.setattr(wiring, "event_publisher", lambda: publisher)
    changes = [r["dynamodb"]["SequenceNumber"] for r in stream_batch["Records"]
               if r["dynamodb"].get("NewImage", {}).get("state", {}).get("S") in ("SUBMITTED", "SUCCEEDED", "FAILED")]
    with Stubber(client) as stubber:
        stubber.add_response("put_events", refused("oxo"))  # SUCCEEDED refused, retried alone, twice
        stubber.add_response("put_events", refused("x"))
        stubber.add_response("put_events", refused("x"))
        assert lambda_handler(stream_batch, _Context()) == {"batchItemFailures": [{"itemIdentifier": changes[1]}]}
