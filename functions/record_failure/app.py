"""Catch-all of the state machine: turn {Error, Cause} into results/<job>/error.json and a FAILED record."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring
from faceswap.errors import ErrorReport

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["job_id"], task_id=event.get("task_id"))  # task_id: when the payload has it
    error = event.get("error") or {}
    report = ErrorReport.from_state_machine_error(str(error.get("Error", "Unknown")), error.get("Cause"))
    recorded = wiring.finisher().record_failure(event["job_id"], report)
    metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1 if recorded else 0)
    return {"recorded": recorded, "code": report.code}
