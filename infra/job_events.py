"""Job events: the Jobs table's stream → PublishJobEvents → EventBridge, one event per job state change
(faceswap.job_events; the schema is docs/events.md).

The event source mapping hands the function only the changes that can be one (Lambda event filtering): JOB# items
written in an event state and REJECTED# items, never the claims, tokens, webhooks or admission writes around
them. It reads from the oldest record the stream keeps (TRIM_HORIZON: nothing written before the mapping existed
is skipped), ten records a batch (one PutEvents call), one batch per shard at a time (the records of one job stay
in order), and retries a failed batch from its first unpublished record (ReportBatchItemFailures) until the
records expire (24 h, the stream's retention) instead of dropping events: a batch that keeps failing holds its
shard, which the IteratorAge alarm reports. Records that expire unpublished are named (shard, sequence numbers)
in a dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Duration
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from faceswap.layout import (
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    FAILED,
    JOB_KEY_PREFIX,
    PARTITION_KEY,
    QUEUED,
    REJECTED_KEY_PREFIX,
    SUBMITTED,
    SUCCEEDED,
    Env,
)
from infra.config import PipelineConfig
from infra.functions import FunctionFactory, FunctionSpec
from infra.storage import dead_letter_queue

BATCH_SIZE = 10  # PutEvents takes at most 10 entries a call
# The read actions Lambda's event source mapping needs on the stream (it checks ListStreams too when it is created).
STREAM_READ_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:ListStreams"]


class JobEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, factory: FunctionFactory,
                 jobs: ddb.Table) -> None:
        super().__init__(scope, construct_id)
        name = config.event_bus_name
        self.bus = events.EventBus.from_event_bus_arn(self, "Bus", name) if name.startswith("arn:") else \
            events.EventBus.from_event_bus_name(self, "Bus", name)
        self.dead_letters = dead_letter_queue(self, "JobEventsDeadLetters")
        self.publisher = factory.create(self, "PublishJobEvents", FunctionSpec(
            "publish_job_events", "Publishes one EventBridge event per job state change (the Jobs table's stream)",
            Duration.seconds(30), 256, {Env.EVENT_BUS_NAME: name}))
        # Exactly its own events on this bus: no other source or detail-type can be put with this role.
        self.publisher.add_to_role_policy(iam.PolicyStatement(
            actions=["events:PutEvents"], resources=[self.bus.event_bus_arn],
            conditions={"StringEquals": {"events:source": EVENT_SOURCE, "events:detail-type": EVENT_DETAIL_TYPE}}))
        stream_arn = jobs.table_stream_arn
        if stream_arn is None:
            raise ValueError("the Jobs table has no stream (infra/storage.py)")
        # On the stream alone (CDK's grant_stream_read would add ListStreams on '*').
        self.publisher.add_to_role_policy(iam.PolicyStatement(actions=STREAM_READ_ACTIONS, resources=[stream_arn]))
        self.mapping = self.publisher.add_event_source_mapping(
            "JobChanges", event_source_arn=stream_arn, starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=BATCH_SIZE, report_batch_item_failures=True, bisect_batch_on_error=True,
            filters=job_change_filters(), on_failure=_QueueOnFailure(self.dead_letters))


def job_change_filters() -> list[Mapping[str, Any]]:
    """JOB# items written in a state that has an event (STARTING is the start function's own), and rejections."""
    job = {"eventName": ["INSERT", "MODIFY"], "dynamodb": {
        "Keys": {PARTITION_KEY: {"S": [{"prefix": JOB_KEY_PREFIX}]}},
        "NewImage": {"state": {"S": [QUEUED, SUBMITTED, SUCCEEDED, FAILED]}}}}
    rejected = {"eventName": ["INSERT", "MODIFY"], "dynamodb": {
        "Keys": {PARTITION_KEY: {"S": [{"prefix": REJECTED_KEY_PREFIX}]}}}}
    return [lambda_.FilterCriteria.filter(job), lambda_.FilterCriteria.filter(rejected)]


@jsii.implements(lambda_.IEventSourceDlq)
class _QueueOnFailure:
    """The mapping's on-failure destination with sqs:SendMessage alone (CDK's SqsDlq grants GetQueueUrl and
    GetQueueAttributes too, which Lambda never calls)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, target: lambda_.IEventSourceMapping,
             target_handler: lambda_.IFunction) -> lambda_.DlqDestinationConfig:
        target_handler.add_to_role_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                              resources=[self._queue.queue_arn]))
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)
