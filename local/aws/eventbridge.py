"""EventBridge pieces moto 5.2.5 leaves out:
- rule targets that are Lambda functions (moto raises NotImplementedError for them) are invoked the way
  EventBridge does, asynchronously (`LambdaRuntime(async_invocations=True)` runs them in the background);
- Step Functions executions publish "Step Functions Execution Status Change" events (RUNNING, SUCCEEDED,
  FAILED, TIMED_OUT, ABORTED — the last at the stop itself, see stop_execution.py) to the default bus, so rules
  on them fire.
Scheduled rules (`ScheduleExpression`) do not fire locally.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend
from moto.events.models import Rule, events_backends
from moto.events.utils import EventTemplateParser
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from local.aws.patches import Patches

LOG = logging.getLogger(__name__)
_patches = Patches()


def install() -> None:
    """Idempotent; `uninstall()` restores moto."""
    if _patches.applied:
        return
    _patches.apply(Rule, "send_to_targets", _send_to_targets)
    _patches.apply(BaseExecutionWorkerCommunication, "terminated", _terminated)
    _patches.apply(Execution, "start", _start)


def uninstall() -> None:
    _patches.undo()


def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    lambda_targets = [t for t in self.targets if t["Arn"].split(":")[2] == "lambda"]
    if lambda_targets and self.event_pattern.matches_event(original_event):
        for target in lambda_targets:
            _invoke_lambda_target(target, _aws_shaped(original_event))
    others = [t for t in self.targets if t not in lambda_targets]
    if others:
        rule = copy.copy(self)
        rule.targets = others
        _patches.original(Rule, "send_to_targets")(rule, original_event, transform_input)


def _aws_shaped(event: dict[str, Any]) -> dict[str, Any]:
    # moto stamps epoch seconds; EventBridge delivers an ISO-8601 time and no ingestion-time.
    shaped = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(shaped.get("time"), int | float):
        shaped["time"] = datetime.datetime.fromtimestamp(shaped["time"], datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped


def _target_input(target: dict[str, Any], event: Any) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        value: Any = event
        for part in [p for p in target["InputPath"].lstrip("$").split(".") if p]:
            value = value.get(part) if isinstance(value, dict) else None
        return value
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                         input_paths_map=transformer.get("InputPathsMap", {}), event=event)
    return event


def _invoke_lambda_target(target: dict[str, Any], event: dict[str, Any]) -> None:
    arn = target["Arn"]
    region, account = arn.split(":")[3], arn.split(":")[4]
    try:
        fn = lambda_backend(account, region).get_function(arn)
        fn.invoke(json.dumps(_target_input(target, event)), {"X-Amz-Invocation-Type": "Event"}, {})
    except Exception:  # EventBridge never fails the publisher for a target's error
        LOG.exception("EventBridge target %s failed", arn)


def _start(self: Execution) -> None:
    _patches.original(Execution, "start")(self)
    _publish_status(self)


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    _patches.original(BaseExecutionWorkerCommunication, "terminated")(self)
    _publish_status(self.execution)


def _publish_status(execution: Execution) -> None:
    try:
        events_backends[execution.account_id][execution.region_name].put_events([{
            "Source": "aws.states", "DetailType": "Step Functions Execution Status Change",
            "Resources": [execution.exec_arn], "Detail": json.dumps(_status_detail(execution)),
        }])
    except Exception:  # a broken rule must not break the execution's bookkeeping
        LOG.exception("publishing the status of %s failed", execution.exec_arn)


def _epoch_ms(value: datetime.datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def _status_detail(execution: Execution) -> dict[str, Any]:
    status = execution.exec_status.value if execution.exec_status else "RUNNING"
    output = json.dumps(execution.output) if status == "SUCCEEDED" else None
    return {
        "executionArn": execution.exec_arn, "stateMachineArn": execution.state_machine_arn,
        "name": execution.name, "status": status,
        "startDate": _epoch_ms(execution.start_date), "stopDate": _epoch_ms(execution.stop_date),
        "input": json.dumps(execution.input_data), "output": output,
        "inputDetails": {"included": True}, "outputDetails": {"included": True} if output else None,
        "error": execution.error, "cause": execution.cause,
    }
