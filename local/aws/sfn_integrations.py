"""Step Functions' task tokens and self-integrations as on AWS (moto 5.2.5 internals). Four patches:

- Parameters of `states:startExecution...` and `aws-sdk:sfn:*` states. A state's Parameters name the API's fields
  as AWS documents them, in PascalCase (`StateMachineArn`, `TaskToken`, `Output`). moto's interpreter hands them
  to boto3 as they are; the Step Functions API's own shapes are camelCase (`stateMachineArn`, `taskToken`), so
  botocore's serializer fails with a KeyError and the state with `States.Runtime`. (DynamoDB and most services
  spell their fields in PascalCase, which is why only this one needs it.) After moto's own normalisation, the
  first letter of each top-level field is lowered.
- A callback task whose `HeartbeatSeconds` passed without a heartbeat fails with `States.HeartbeatTimeout`, as on
  AWS; moto reports `States.Timeout`, the error of `TimeoutSeconds`, and the two mean different things to a user.
- A task token is single-use: once SendTaskSuccess/Failure closed its task, another SendTask* call with it is
  answered `TaskTimedOut` ("already closed"), as on AWS. moto accepts it again while the execution still runs,
  and answers a closed task with an error its server cannot serialize (an HTTP 500). Until then a heartbeat is
  accepted even if the task has no `HeartbeatSeconds` (moto: InvalidToken).
- SendTask* calls look only at executions whose interpreter has started: moto walks every RUNNING execution,
  and one started a moment ago has no environment (nor status) yet, so the call failed with a 500 (AttributeError).
"""

from __future__ import annotations

import threading
from typing import Any, cast

from moto.stepfunctions.exceptions import AWSError
from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
    StateTaskServiceDynamoDB,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events import (
    StateTaskServiceEvents,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns import (
    StateTaskServiceSns,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs import (
    StateTaskServiceSqs,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackNotifyConsumerError,
    CallbackOutcome,
    CallbackPoolManager,
    HeartbeatTimeoutError,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from local.aws.patches import Patches

# Step Functions' optimized and SDK integrations that call a service themselves (lambda:invoke goes through
# `lambda_eval_utils` instead): what the call recorder records and where the interpreter makes its clients.
SERVICE_TASKS = (StateTaskServiceSfn, StateTaskServiceAwsSdk, StateTaskServiceDynamoDB, StateTaskServiceSqs,
                 StateTaskServiceSns, StateTaskServiceEvents)
_patches = Patches()
_spending = threading.Lock()  # one SendTask* call at a time decides whether a token is still open
_SPENT = "_local_spent_tokens"  # set on a CallbackPoolManager: tokens whose task was closed


def install() -> None:
    """Idempotent; `uninstall()` restores moto. Each replacement wraps the method it found (inherited or own)."""
    if _patches.applied:
        return
    for cls in (StateTaskServiceSfn, StateTaskServiceAwsSdk):
        _patches.apply(cls, "_normalise_parameters", _camel_case_for_sfn(cls._normalise_parameters))
    _patches.apply(StateTaskServiceCallback, "_from_error", _heartbeat_timeout(StateTaskServiceCallback._from_error))
    _patches.apply(CallbackPoolManager, "notify", _single_use(CallbackPoolManager.notify))
    _patches.apply(CallbackPoolManager, "heartbeat", _until_spent(CallbackPoolManager.heartbeat))
    _patches.apply(StepFunctionsParserBackend, "_get_executions",
                   _started_only(StepFunctionsParserBackend._get_executions))


def uninstall() -> None:
    _patches.undo()


def _camel_case_for_sfn(normalise: Any) -> Any:
    def normalise_then_lower(self: Any, parameters: dict[str, Any], boto_service_name: str | None = None,
                             service_action_name: str | None = None) -> None:
        normalise(self, parameters, boto_service_name, service_action_name)
        if self._get_boto_service_name(boto_service_name) == "stepfunctions":
            for key in list(parameters):
                parameters[key[:1].lower() + key[1:]] = parameters.pop(key)

    return normalise_then_lower


def _heartbeat_timeout(from_error: Any) -> Any:
    def from_error_naming_heartbeats(self: Any, env: Environment, ex: Exception) -> FailureEvent:
        if not isinstance(ex, HeartbeatTimeoutError):
            return from_error(self, env, ex)
        name = StatesErrorNameType.StatesHeartbeatTimeout
        details = cast(EventDetails, {"taskTimedOutEventDetails": TaskTimedOutEventDetails(error=name.to_name())})
        return FailureEvent(env=env, error_name=StatesErrorName(typ=name), event_type=HistoryEventType.TaskTimedOut,
                            event_details=details)

    return from_error_naming_heartbeats


class TaskTimedOut(AWSError):
    """AWS's answer for a token whose task is closed (used, timed out). moto's own `TaskTimedOut` is not one of
    its serializable errors: it reached the client as a bare HTTP 500."""

    TYPE = "TaskTimedOut"

    def __init__(self) -> None:
        super().__init__("Task Timed Out: 'Provided task does not exist anymore'")


def _single_use(notify: Any) -> Any:
    def notify_once(self: CallbackPoolManager, callback_id: str, outcome: CallbackOutcome) -> bool:
        with _spending:
            spent: set[str] = self.__dict__.setdefault(_SPENT, set())
            if callback_id in spent:
                raise TaskTimedOut()
            try:
                if not notify(self, callback_id, outcome):
                    return False
            except CallbackNotifyConsumerError:  # the task timed out, or its state ended
                raise TaskTimedOut() from None
            spent.add(callback_id)
            return True

    return notify_once


def _until_spent(heartbeat: Any) -> Any:
    def heartbeat_while_open(self: CallbackPoolManager, callback_id: str) -> bool:
        with _spending:
            if callback_id in self.__dict__.get(_SPENT, ()):
                raise TaskTimedOut()
            try:
                answered = bool(heartbeat(self, callback_id))
            except CallbackNotifyConsumerError:
                raise TaskTimedOut() from None
            # An open task without HeartbeatSeconds accepts a heartbeat on AWS too; moto answers InvalidToken.
            return answered or self.get(callback_id) is not None

    return heartbeat_while_open


def _started_only(get_executions: Any) -> Any:
    def started_executions(self: Any, execution_status: Any = None) -> list[Any]:
        # Filtered before moto reads a status: one being started has none yet (its `status` raises).
        started = [e for e in get_executions(self, None)
                   if getattr(getattr(e, "exec_worker", None), "env", None) is not None and e.exec_status is not None]
        return [e for e in started if execution_status is None or execution_status == e.status]

    return started_executions
