"""Catch-all of the state machine: turn {Error, Cause} into results/<job>/error.json and a FAILED record."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring
from faceswap.errors import ErrorReport
from faceswap.states import RecordFailureInput, RecordFailureOutput

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=RecordFailureInput)
def lambda_handler(event: RecordFailureInput, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event.job_id, task_id=event.task_id)
    report = ErrorReport.from_state_machine_error(event.error.Error, event.error.Cause)
    recorded = wiring.finisher().record_failure(event.job_id, report)
    metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1 if recorded else 0)
    return RecordFailureOutput(recorded=recorded, code=report.code).model_dump()
