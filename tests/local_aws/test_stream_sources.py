"""DynamoDB-stream event source mappings run like Lambda's (local.aws.event_sources + stream_poller), checked against
AWS's documented behaviour: filtering, batch size, order, one successful delivery per record, bisection, retries
and the on-failure destination.

The app's StreamConsumer reads the Events table's stream (NEW_AND_OLD_IMAGES) from TRIM_HORIZON: BatchSize 3, two
filters (pk prefix "JOB#"; or a kind other than "boring" with a flag), BisectBatchOnFunctionError, 1 retry, then
the StreamFailures queue. It fails a batch holding a record whose new image has a `fail` attribute.
"""

from __future__ import annotations

import json
from typing import Any

from local.aws.stack import LocalStack
from local.eventually import eventually
from tests.local_aws.helpers import paused


def table(aws: LocalStack) -> str:
    return aws.outputs["EventsTableName"]


def stream_arn(aws: LocalStack) -> str:
    return str(aws.client("dynamodb").describe_table(TableName=table(aws))["Table"]["LatestStreamArn"])


def put(aws: LocalStack, pk: str, **attributes: dict[str, Any]) -> None:
    aws.client("dynamodb").put_item(TableName=table(aws), Item={"pk": {"S": pk}, **attributes})


def attempts(aws: LocalStack, tag: str) -> list[tuple[bool, list[str]]]:
    """(succeeded, the keys of the records) of each consumer invocation with a key containing `tag`, in order."""
    consumer = aws.function_name("StreamConsumer")
    runs = [i for i in aws.runtime.invocations if i.function_name == consumer]
    keyed = [(i.error is None, [r["dynamodb"]["Keys"]["pk"]["S"] for r in i.event["Records"]]) for i in runs]
    return [(ok, keys) for ok, keys in keyed if any(tag in key for key in keys)]


def delivered(aws: LocalStack, tag: str) -> list[dict[str, Any]]:
    """The records of the successful invocations, in delivery order."""
    consumer = aws.function_name("StreamConsumer")
    return [r for i in aws.runtime.invocations if i.function_name == consumer and i.error is None
            for r in i.event["Records"] if tag in r["dynamodb"]["Keys"]["pk"]["S"]]


def test_records_arrive_filtered_in_order_and_once(aws: LocalStack) -> None:
    boring, special, flag = {"S": "boring"}, {"S": "special"}, {"BOOL": True}
    before = aws.event_sources.stats(function_name=aws.function_name("StreamConsumer"))
    put(aws, "JOB#order-1", kind=boring)
    put(aws, "OTHER#order-x", kind=special, flag=flag)  # the second filter
    put(aws, "OTHER#order-y", kind=boring, flag=flag)  # anything-but "boring": dropped
    put(aws, "OTHER#order-z", kind=special)  # no flag: dropped
    put(aws, "JOB#order-2")
    aws.client("dynamodb").update_item(TableName=table(aws), Key={"pk": {"S": "JOB#order-1"}},
                                       UpdateExpression="SET kind = :k", ExpressionAttributeValues={":k": special})
    for n in (3, 4, 5):
        put(aws, f"JOB#order-{n}")
    aws.client("dynamodb").delete_item(TableName=table(aws), Key={"pk": {"S": "JOB#order-2"}})
    assert aws.event_sources.wait_idle(20), aws.event_sources.describe()

    records = delivered(aws, "order-")
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "JOB#order-1"), ("INSERT", "OTHER#order-x"), ("INSERT", "JOB#order-2"),
        ("MODIFY", "JOB#order-1"), ("INSERT", "JOB#order-3"), ("INSERT", "JOB#order-4"), ("INSERT", "JOB#order-5"),
        ("REMOVE", "JOB#order-2")]
    assert all(ok and len(keys) <= 3 for ok, keys in attempts(aws, "order-"))
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence)
    modify = records[3]
    assert (modify["dynamodb"]["OldImage"]["kind"], modify["dynamodb"]["NewImage"]["kind"]) == (boring, special)
    assert modify["eventSourceARN"] == stream_arn(aws) and modify["eventSource"] == "aws:dynamodb"
    assert isinstance(modify["dynamodb"]["ApproximateCreationDateTime"], int)
    after = aws.event_sources.stats(function_name=aws.function_name("StreamConsumer"))
    assert after.records_filtered - before.records_filtered == 2


def test_a_failing_record_is_isolated_retried_then_sent_to_the_on_failure_queue(aws: LocalStack) -> None:
    with paused(aws, stream_arn(aws)):  # the three records make one batch
        put(aws, "JOB#bisect-1")
        put(aws, "JOB#bisect-2", fail={"BOOL": True})
        put(aws, "JOB#bisect-3")
    assert aws.event_sources.wait_idle(20), aws.event_sources.describe()

    one, two, three = "JOB#bisect-1", "JOB#bisect-2", "JOB#bisect-3"
    assert attempts(aws, "bisect-") == [
        (False, [one, two, three]),  # fails: split in two
        (True, [one]), (False, [two, three]),  # the second half fails: split again
        (False, [two]), (False, [two]),  # one retry (MaximumRetryAttempts 1), then discarded
        (True, [three])]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in delivered(aws, "bisect-")] == [one, three]

    sqs = aws.client("sqs")
    message = eventually(lambda: sqs.receive_message(QueueUrl=aws.outputs["StreamFailuresUrl"]).get("Messages"),
                         10, what="the on-failure record")[0]
    failure = json.loads(message["Body"])
    sequence = next(r["dynamodb"]["SequenceNumber"] for r in _all_records(aws)
                    if r["dynamodb"]["Keys"]["pk"]["S"] == two)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    info = failure["DDBStreamBatchInfo"]
    assert (info["batchSize"], info["startSequenceNumber"], info["endSequenceNumber"], info["streamArn"]) == (
        1, sequence, sequence, stream_arn(aws))
    assert aws.event_sources.stats(function_name=aws.function_name("StreamConsumer")).records_discarded == 1


def _all_records(aws: LocalStack) -> list[dict[str, Any]]:
    consumer = aws.function_name("StreamConsumer")
    return [r for i in aws.runtime.invocations if i.function_name == consumer for r in i.event["Records"]]
