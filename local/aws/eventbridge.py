"""EventBridge delivery as AWS does it, where moto 5.2.5 falls short (`Rule.send_to_targets`, called by PutEvents
for every rule of the event's bus, in the order the events were put):
- a DISABLED rule matches nothing (moto delivers through it);
- Lambda targets (moto raises NotImplementedError) are invoked the way EventBridge does, asynchronously
  (`LambdaRuntime(async_invocations=True)` runs them in the background);
- SQS targets get the event as EventBridge sends it, with every field (moto's default template drops `account`),
  or the target's `Input`, `InputPath` or `InputTransformer` (moto applies only the transformer), and a FIFO
  queue's `MessageGroupId`; they are sent at once, so a queue holds a bus's events in the order they were put;
- a target that fails is logged and skipped (moto's exception failed the PutEvents call and the rules after it);
- other targets (log groups, archives, buses, API destinations) are moto's, one at a time.
Events match rules with moto's event pattern matcher (exact values, prefix, suffix, anything-but, numeric, exists,
equals-ignore-case, cidr, $or). Step Functions executions also publish "Step Functions Execution Status Change"
events (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED — the last at the stop itself, see stop_execution.py) to
the default bus, so rules on them fire. Scheduled rules (`ScheduleExpression`) do not fire locally.
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
from moto.sqs.models import sqs_backends
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
    if self.state == "DISABLED" or not self.event_pattern.matches_event(original_event):
        return
    for target in self.targets:
        try:
            _send_to_target(self, target, original_event, transform_input)
        except Exception:  # EventBridge never fails the publisher for a target's error
            LOG.exception("EventBridge rule %s: target %s failed", self.name, target["Arn"])


def _send_to_target(rule: Rule, target: dict[str, Any], event: Any, transform_input: bool) -> None:
    service = target["Arn"].split(":")[2]
    if service == "lambda":
        _invoke_lambda_target(target, _target_input(target, _aws_shaped(event)))
    elif service == "sqs":
        _send_to_queue(target, _target_input(target, _aws_shaped(event)))
    else:
        one = copy.copy(rule)
        one.targets = [target]
        _patches.original(Rule, "send_to_targets")(one, copy.deepcopy(event), transform_input)


def _aws_shaped(event: dict[str, Any]) -> dict[str, Any]:
    # moto stamps epoch seconds; EventBridge delivers an ISO-8601 time and no ingestion-time.
    shaped = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(shaped.get("time"), int | float):
        shaped["time"] = datetime.datetime.fromtimestamp(shaped["time"], datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped


def _target_input(target: dict[str, Any], event: Any) -> Any:
    if "Input" in target:  # a constant JSON text, delivered as it is
        return target["Input"]
    if "InputPath" in target:
        value: Any = event
        for part in [p for p in target["InputPath"].lstrip("$").split(".") if p]:
            value = value.get(part) if isinstance(value, dict) else None
        return value
    if "InputTransformer" in target:  # moto's parser also reads <aws.events.event.ingestion-time>
        transformer = target["InputTransformer"]
        with_ingestion: Any = {**event, "ingestion-time": event.get("time")}
        return EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                         input_paths_map=transformer.get("InputPathsMap", {}), event=with_ingestion)
    return event


def _invoke_lambda_target(target: dict[str, Any], payload: Any) -> None:
    arn = target["Arn"]
    fn = lambda_backend(arn.split(":")[4], arn.split(":")[3]).get_function(arn)
    body = payload if isinstance(payload, str) else json.dumps(payload)
    fn.invoke(body, {"X-Amz-Invocation-Type": "Event"}, {})


def _send_to_queue(target: dict[str, Any], payload: Any) -> None:
    _, _, _, region, account, queue = target["Arn"].split(":")
    body = payload if isinstance(payload, str) else json.dumps(payload)
    group_id = target.get("SqsParameters", {}).get("MessageGroupId")
    sqs_backends[account][region].send_message(queue_name=queue, message_body=body, group_id=group_id)


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
