"""SQS event source mappings run like Lambda's (local.aws.event_sources + sqs_poller + sqs_queues), checked against
AWS's documented behaviour: the event's shape, partial batch responses, function errors and the visibility timeout,
redrive after maxReceiveCount, MaximumConcurrency, batching windows, DelaySeconds on the stack's clock.

The app's worker is mapped to WorkQueue (BatchSize 5, ReportBatchItemFailures, MaximumConcurrency 2, visibility
120 s, dead-letter queue after 2 receives) and PlainQueue (BatchSize 10, a 60 s batching window, visibility 300 s:
AWS asks for more than the window).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from botocore.config import Config
from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends

from local.aws.lambda_runtime import Invocation
from local.aws.server import ACCOUNT_ID, REGION
from local.aws.stack import LocalStack
from local.eventually import eventually
from tests.local_aws.conftest import TIME_SCALE
from tests.local_aws.helpers import paused


def send(aws: LocalStack, queue: str, *bodies: dict[str, Any], **options: Any) -> None:
    for body in bodies:
        aws.client("sqs").send_message(QueueUrl=aws.outputs[queue], MessageBody=json.dumps(body), **options)


def queue_arn(aws: LocalStack, queue: str) -> str:
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=aws.outputs[queue], AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def runs(aws: LocalStack, prefix: str) -> list[Invocation]:
    """The worker's invocations with a message whose id starts with `prefix`, in order."""
    worker = aws.function_name("Worker")
    return [i for i in aws.runtime.invocations if i.function_name == worker
            and any(json.loads(r["body"])["id"].startswith(prefix) for r in i.event["Records"])]


def ids(run: Invocation) -> list[str]:
    return [json.loads(r["body"])["id"] for r in run.event["Records"]]


def receive_counts(aws: LocalStack, message_id: str) -> list[int]:
    """ApproximateReceiveCount of each delivery of one message."""
    return [int(r["attributes"]["ApproximateReceiveCount"]) for run in runs(aws, message_id)
            for r in run.event["Records"] if json.loads(r["body"])["id"] == message_id]


def dead_letters(aws: LocalStack, prefix: str) -> list[dict[str, Any]]:
    messages = aws.client("sqs").receive_message(QueueUrl=aws.outputs["WorkDeadLettersUrl"], MaxNumberOfMessages=10,
                                                 AttributeNames=["All"]).get("Messages", [])
    return [m for m in messages if json.loads(m["Body"])["id"].startswith(prefix)]


def test_moto_no_longer_delivers_inline(aws: LocalStack) -> None:
    assert aws.event_sources.mappings()
    assert not any(q.lambda_event_source_mappings for q in sqs_backends[ACCOUNT_ID][REGION].queues.values())
    assert not any(t.lambda_event_source_mappings for t in dynamodb_backends[ACCOUNT_ID][REGION].tables.values())


def test_the_event_is_shaped_like_lambdas(aws: LocalStack) -> None:
    body = json.dumps({"id": "shape-1"})
    aws.client("sqs").send_message(QueueUrl=aws.outputs["WorkQueueUrl"], MessageBody=body, MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "job"}, "blob": {"DataType": "Binary", "BinaryValue": b"\0\1"}})
    (run,) = eventually(lambda: runs(aws, "shape-") or None, 10, what="the worker's invocation")
    (record,) = run.event["Records"]
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                           "eventSource", "eventSourceARN", "awsRegion"}
    assert (record["body"], record["md5OfBody"]) == (body, hashlib.md5(body.encode()).hexdigest())
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs", queue_arn(aws, "WorkQueueUrl"), REGION)
    attributes = record["attributes"]
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
            "ApproximateFirstReceiveTimestamp"} <= set(attributes)
    assert attributes["ApproximateReceiveCount"] == "1" and attributes["SentTimestamp"].isdigit()
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "job", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"}}


def test_only_the_reported_messages_come_back(aws: LocalStack) -> None:
    with paused(aws, queue_arn(aws, "WorkQueueUrl")):
        send(aws, "WorkQueueUrl", {"id": "partial-1"}, {"id": "partial-2", "fail_receives": 1}, {"id": "partial-3"})
    assert aws.event_sources.wait_idle(20), aws.event_sources.describe()
    first = runs(aws, "partial-")[0]
    assert sorted(ids(first)) == ["partial-1", "partial-2", "partial-3"]  # one batch
    assert [receive_counts(aws, f"partial-{n}") for n in (1, 2, 3)] == [[1], [1, 2], [1]]


def test_an_unknown_item_identifier_fails_the_whole_batch(aws: LocalStack) -> None:
    with paused(aws, queue_arn(aws, "WorkQueueUrl")):
        send(aws, "WorkQueueUrl", {"id": "bad-1", "bad_response": True}, {"id": "bad-2"})
    assert sorted(ids(eventually(lambda: runs(aws, "bad-") or None, 10)[0])) == ["bad-1", "bad-2"]
    assert eventually(lambda: receive_counts(aws, "bad-2")[1:] or None, 10) == [2]  # bad-2 was not deleted
    assert aws.event_sources.wait_idle(20), aws.event_sources.describe()


def test_a_function_error_returns_the_batch_after_the_visibility_timeout(aws: LocalStack) -> None:
    send(aws, "WorkQueueUrl", {"id": "crash-1", "crash_receives": 1})
    assert aws.event_sources.wait_idle(20), aws.event_sources.describe()
    failed, retried = runs(aws, "crash-1")
    assert failed.error is not None and failed.error["errorMessage"] == "crash requested"
    (record,) = retried.event["Records"]
    first_received = int(record["attributes"]["ApproximateFirstReceiveTimestamp"]) / 1000
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert retried.result["started"] - first_received >= 120 * TIME_SCALE * 0.95  # the queue's visibility timeout


def test_a_message_failing_max_receive_count_times_moves_to_the_dead_letter_queue(aws: LocalStack) -> None:
    send(aws, "WorkQueueUrl", {"id": "poison-1", "crash_receives": 99})
    (moved,) = eventually(lambda: dead_letters(aws, "poison-") or None, 20, what="the message in the DLQ")
    assert json.loads(moved["Body"]) == {"id": "poison-1", "crash_receives": 99}
    assert receive_counts(aws, "poison-1") == [1, 2]  # maxReceiveCount 2: never a third delivery
    assert aws.event_sources.wait_idle(20), aws.event_sources.describe()


def test_maximum_concurrency_is_never_exceeded(aws: LocalStack) -> None:
    # 3+ batches of up to 5 messages, each run 0.4 s; the runtime would run 4 at once.
    send(aws, "WorkQueueUrl", *({"id": f"conc-{n}", "sleep": 0.4} for n in range(15)))
    assert aws.event_sources.wait_idle(30), aws.event_sources.describe()
    measured = runs(aws, "conc-")
    assert sorted(i for run in measured for i in ids(run)) == sorted(f"conc-{n}" for n in range(15))
    assert _most_at_once([(run.result["started"], run.result["ended"]) for run in measured]) == 2
    assert aws.event_sources.stats(source_arn=queue_arn(aws, "WorkQueueUrl")).peak_concurrency == 2


def test_delay_seconds_run_on_the_stack_clock(aws: LocalStack) -> None:
    sent = time.time()
    send(aws, "WorkQueueUrl", {"id": "delay-1"}, DelaySeconds=60)
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=aws.outputs["WorkQueueUrl"],
                                                        AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert not aws.event_sources.wait_idle(0.5)  # a delayed message is work to come
    (run,) = eventually(lambda: runs(aws, "delay-1") or None, 10)
    assert 60 * TIME_SCALE * 0.95 <= run.result["started"] - sent < 60 * TIME_SCALE + 2


def test_without_partial_responses_the_response_is_ignored_and_a_window_makes_one_batch(aws: LocalStack) -> None:
    before = aws.event_sources.stats(source_arn=queue_arn(aws, "PlainQueueUrl"))
    for n in (1, 2, 3):  # within the 60 s window (1.2 s here)
        send(aws, "PlainQueueUrl", {"id": f"plain-{n}", "fail_receives": 1})
        time.sleep(0.2)
    assert aws.event_sources.wait_idle(20), aws.event_sources.describe()
    (run,) = runs(aws, "plain-")
    assert ids(run) == ["plain-1", "plain-2", "plain-3"]
    assert len(run.result["batchItemFailures"]) == 3  # reported, but the mapping does not read it: all deleted
    after = aws.event_sources.stats(source_arn=queue_arn(aws, "PlainQueueUrl"))
    assert (after.batches - before.batches, after.messages_deleted - before.messages_deleted) == (1, 3)


def test_a_mapping_created_later_is_polled_and_one_aws_would_refuse_is_not(aws: LocalStack) -> None:
    sqs, lambda_ = aws.client("sqs"), aws.client("lambda")
    url = sqs.create_queue(QueueName="late-queue")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    worker = aws.function_name("Worker")
    created = lambda_.create_event_source_mapping(EventSourceArn=arn, FunctionName=worker, BatchSize=1)
    try:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "late-1"}))
        eventually(lambda: runs(aws, "late-1") or None, 10, what="a delivery by the new mapping")
        unchecked = aws.client("lambda", config=Config(parameter_validation=False))  # as CloudFormation in moto
        refused = unchecked.create_event_source_mapping(EventSourceArn=arn, FunctionName=worker,
                                                        ScalingConfig={"MaximumConcurrency": 1})
        assert any("MaximumConcurrency 1" in reason for reason in aws.event_sources.refresh())
        lambda_.delete_event_source_mapping(UUID=refused["UUID"])
    finally:
        lambda_.delete_event_source_mapping(UUID=created["UUID"])
        aws.event_sources.refresh()
    assert arn not in [m.source_arn for m in aws.event_sources.mappings()]


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, step in edges:  # at a tie an end (-1) sorts before a start
        running += step
        most = max(most, running)
    return most
