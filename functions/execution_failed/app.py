"""EventBridge: an execution FAILED, TIMED_OUT or was ABORTED. Record it if the state machine could not."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring
from faceswap.errors import ErrorReport
from faceswap.events import ExecutionStatusChange

logger = Logger()
tracer = Tracer()

_WHY = {
    "TIMED_OUT": ("run_timeout", "The job hit the run timeout before the vendor finished.",
                  "Re-run later, or raise faceswap:run_timeout_minutes."),
    "ABORTED": ("aborted", "The execution was stopped by someone.", "Re-run the job with a new \"run\" number."),
}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=ExecutionStatusChange)
def lambda_handler(event: ExecutionStatusChange, context: LambdaContext) -> dict[str, Any]:
    detail = event.detail
    logger.append_keys(job_id=detail.name, task_id=detail.task_id())
    if detail.status in _WHY:
        code, message, fix = _WHY[detail.status]
        report = ErrorReport(f"Execution{detail.status.title().replace('_', '')}", code, message, fix)
    else:
        report = ErrorReport.from_state_machine_error(detail.error or detail.status, detail.cause)
    recorded = wiring.finisher().record_failure(detail.name, report)
    return {"recorded": recorded, "status": detail.status}
