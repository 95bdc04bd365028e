"""EventBridge: an execution FAILED, TIMED_OUT or was ABORTED. Record it if the state machine could not."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring
from faceswap.errors import ErrorReport

logger = Logger()
tracer = Tracer()

_WHY = {
    "TIMED_OUT": ("run_timeout", "The job hit the run timeout before the vendor finished.",
                  "Re-run later, or raise faceswap:run_timeout_minutes."),
    "ABORTED": ("aborted", "The execution was stopped by someone.", "Re-run the job with a new \"run\" number."),
}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    detail = event.detail
    job_id, status = str(detail.get("name", "")), str(detail.get("status", ""))
    logger.append_keys(job_id=job_id, task_id=_task_id(detail.get("input")))
    code, message, fix = _WHY.get(status, ("execution_failed", "", ""))
    if status in _WHY:
        report = ErrorReport(f"Execution{status.title().replace('_', '')}", code, message, fix)
    else:
        report = ErrorReport.from_state_machine_error(str(detail.get("error") or status), detail.get("cause"))
    recorded = wiring.finisher().record_failure(job_id, report)
    return {"recorded": recorded, "status": status}


def _task_id(execution_input: object) -> str | None:
    """The execution's input (job_id, task_id, poll) rides along in the event: the task id for the log lines."""
    try:
        task_id = json.loads(str(execution_input or "{}")).get("task_id")
    except (ValueError, AttributeError):
        return None
    return str(task_id) if task_id else None
