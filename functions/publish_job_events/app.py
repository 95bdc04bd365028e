"""The Jobs table's stream (JOB# and REJECTED# items only: the event source mapping's filters) → one EventBridge
event per job state change (faceswap.job_events; docs/events.md).

Partial batch response: the first record not published, from which Lambda retries in order. Powertools'
BatchProcessor is not used: it carries on past a failed record, and whatever it published after one would be
published again by that retry (faceswap.event_bus). A record that cannot be read raises before anything of its
batch is published; the mapping bisects the batch down to it and retries it, holding its shard (IteratorAge alarm).
"""

from __future__ import annotations

import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring
from faceswap.event_bus import Outgoing

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def lambda_handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    outgoing = [item for item in map(_outgoing, event.records) if item is not None]
    published = wiring.event_publisher().publish(outgoing)
    for item in outgoing[:published]:
        logger.info("job event published", extra={"job_id": item.event.job_id, "state": item.event.state,
                                                   "sequence": item.event.sequence})
    metrics.add_metric(name="JobEventsPublished", unit=MetricUnit.Count, value=published)
    if published < len(outgoing):  # Lambda retries from this record on, in order
        return {"batchItemFailures": [{"itemIdentifier": outgoing[published].record_id}]}
    return {"batchItemFailures": []}


def _outgoing(record: DynamoDBRecord) -> Outgoing | None:
    change = record.dynamodb
    if change is None:
        return None
    event = wiring.job_events().event_for(change.old_image or None, change.new_image or None)
    if event is None or change.sequence_number is None:
        return None
    created = change.approximate_creation_date_time
    when = datetime.datetime.fromtimestamp(created, datetime.UTC) if created is not None else None
    return Outgoing(change.sequence_number, event, when)
