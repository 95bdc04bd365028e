"""After the wait: trust the API's final status, copy the result into results/<job>/, write status.json."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import aws, wiring
from faceswap.errors import VendorTaskFailed
from faceswap.states import FinalizeInput

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=FinalizeInput)
def lambda_handler(event: FinalizeInput, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event.job_id, task_id=event.task_id)
    try:
        outcome = wiring.finisher().finalize(event.job_id, event.task_id, aws.vendor_client())
    except VendorTaskFailed:
        metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="JobsSucceeded", unit=MetricUnit.Count, value=1)
    return outcome.model_dump()
