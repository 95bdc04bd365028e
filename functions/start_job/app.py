"""S3 upload → start a face-swap job (validate, claim once, upload to the vendor, create the task, run)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring
from faceswap.events import UploadDeadLetter, UploadEvent

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=UploadEvent | UploadDeadLetter)  # a union: pydantic takes the one that fits
def lambda_handler(event: UploadEvent | UploadDeadLetter, context: LambdaContext) -> dict[str, Any]:
    # A dead letter replayed as is names the request id of the attempts that ended (their claim can be taken over).
    upload, ended_attempt = ((event.requestPayload, event.requestContext.requestId)
                             if isinstance(event, UploadDeadLetter) else (event, ""))
    starter = wiring.starter()
    outcomes = []
    for record in upload.Records:
        logger.remove_keys(["job_id", "task_id"])  # one event may carry several uploads: no keys from the last
        outcome = starter.handle_upload(record.bucket, record.key, context.aws_request_id, ended_attempt)
        logger.append_keys(job_id=outcome.job_id)  # also for uploads rejected or waiting for their manifest
        metrics.add_metric(name=f"Jobs_{outcome.action}", unit=MetricUnit.Count, value=1)
        logger.info("upload handled", extra={"key": record.key, "action": outcome.action, "detail": outcome.detail})
        outcomes.append({"key": record.key, "action": outcome.action, "job_id": outcome.job_id})
    return {"outcomes": outcomes}
