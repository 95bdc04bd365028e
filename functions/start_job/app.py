"""Start queue → start face-swap jobs: each message is an upload (S3's notification) or a job that waited; each is
checked, admitted, handed to the vendor and run, or sent back to wait (faceswap.starter).

A message that fails is reported as a partial batch failure and comes back once it is visible again: sooner than
the queue's visibility timeout (which must cover a crash), after a short backoff set here.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import aws, wiring
from faceswap.events import StartQueueRecord

RETRY_BACKOFF_SECONDS = (10, 30, 60, 120)  # a failed message's next delivery, by its delivery count

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, model=StartQueueRecord)


@tracer.capture_method
def start_from(record: StartQueueRecord) -> None:
    try:
        outcomes = wiring.starter().handle(record)
    except Exception:
        _retry_soon(record)
        raise
    for outcome in outcomes:
        if outcome.job_id:
            logger.append_keys(job_id=outcome.job_id)
        metrics.add_metric(name=f"Jobs_{outcome.action}", unit=MetricUnit.Count, value=1)
        logger.info("start message handled", extra={"action": outcome.action, "detail": outcome.detail,
                                                     "message_id": record.messageId})


def _retry_soon(message: StartQueueRecord) -> None:
    """The failed message comes back after a short backoff instead of the whole visibility timeout."""
    deliveries = int(message.attributes.ApproximateReceiveCount)
    delay = RETRY_BACKOFF_SECONDS[min(deliveries, len(RETRY_BACKOFF_SECONDS)) - 1]
    try:
        aws.sqs().change_message_visibility(QueueUrl=aws.settings().start_queue_url,
                                            ReceiptHandle=message.receiptHandle, VisibilityTimeout=delay)
    except Exception:  # the visibility timeout still brings it back
        logger.exception("could not shorten the failed message's visibility timeout")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=start_from, processor=processor, context=context)
