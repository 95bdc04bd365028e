"""S3 upload → start a face-swap job (validate, claim once, upload to the vendor, create the task, run)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    s3_event, ended_attempt = _unwrap_dead_letter(event)
    starter = wiring.starter()
    outcomes = []
    for record in s3_event.records:
        key = unquote_plus(record.s3.get_object.key)  # S3 event keys are URL-encoded
        logger.remove_keys(["job_id", "task_id"])  # one event may carry several uploads: no keys from the last
        outcome = starter.handle_upload(record.s3.bucket.name, key, context.aws_request_id, ended_attempt)
        logger.append_keys(job_id=outcome.job_id)  # also for uploads rejected or waiting for their manifest
        metrics.add_metric(name=f"Jobs_{outcome.action}", unit=MetricUnit.Count, value=1)
        logger.info("upload handled", extra={"key": key, "action": outcome.action, "detail": outcome.detail})
        outcomes.append({"key": key, "action": outcome.action, "job_id": outcome.job_id})
    return {"outcomes": outcomes}


def _unwrap_dead_letter(event: dict[str, Any]) -> tuple[S3Event, str]:
    """An S3 event, or a dead letter replayed as is: the on-failure destination's record, whose request id names
    the attempts that ended (so their abandoned claim can be taken over at once)."""
    if "requestPayload" in event and "requestContext" in event:
        return S3Event(event["requestPayload"]), str(event["requestContext"].get("requestId", ""))
    return S3Event(event), ""
