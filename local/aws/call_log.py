"""The record of every AWS call each principal of a deployed stack makes, for the IAM proof (tests/iam).

Opt-in: when `LOCAL_AWS_CALL_LOG` names a file (the test session sets it), every `LocalStack` appends to it, as JSON
lines, each with the `session` of the LocalStack that wrote it:
- `deployment`: a stack deployed into it (`deploy_stack`), its template, its physical ids and the value of every
  `Ref`/`Fn::GetAtt` in it, as moto's CloudFormation resolved them (so the template's policies can be read with
  this deployment's ARNs);
- `call`: one AWS call by a principal: a Lambda function (recorded inside its worker, see `lambda_worker.py`, or
  here for what Lambda does with the function's role, such as sending to its on-failure destination) or a state
  machine (its own integrations: `lambda:invoke`, `states:startExecution`, `aws-sdk:*`...), with the parameters
  IAM's resources and condition keys depend on;
- `token`: a task token (as a digest) and the execution and state machine that issued it: SendTask* calls are
  authorised against that state machine.

The state machines' calls are recorded by patching moto 5.2.5's interpreter (see `patches.py`).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import clean_json
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.eval.states import ContextObject

from local.aws.lambda_worker import RECORDER_ENV, scrub_parameters, token_digest
from local.aws.patches import Patches
from local.aws.server import ACCOUNT_ID, REGION
from local.aws.sfn_integrations import SERVICE_TASKS

CALL_LOG_ENV = "LOCAL_AWS_CALL_LOG"

_patches = Patches()
_active: CallLog | None = None


class CallLog:
    """One LocalStack's writer into the test session's log (appends; several LocalStacks share the file)."""

    def __init__(self, path: Path, template: dict[str, Any]) -> None:
        self.path = Path(path)
        self.session = uuid.uuid4().hex[:12]
        self.item_keys = frozenset(key_attributes(template))
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, template_path: Path) -> CallLog | None:
        """A log when the harness was asked for one (`LOCAL_AWS_CALL_LOG`), else None."""
        path = os.environ.get(CALL_LOG_ENV)
        return cls(Path(path), json.loads(Path(template_path).read_text())) if path else None

    def worker_environment(self) -> dict[str, str]:
        """The variable that makes a Lambda worker record its calls (see `lambda_worker.CallRecorder`)."""
        config = {"path": str(self.path), "session": self.session, "item_keys": sorted(self.item_keys)}
        return {RECORDER_ENV: json.dumps(config)}

    def install(self) -> CallLog:
        global _active
        if _active is not None and _active is not self:
            raise RuntimeError("another CallLog is installed")
        _active = self
        if not _patches.applied:
            _patches.apply(lambda_eval_utils, "execute_lambda_function_integration",
                           _recorded_lambda_integration(lambda_eval_utils.execute_lambda_function_integration))
            for cls in SERVICE_TASKS:
                _patches.apply(cls, "_eval_service_task", _recorded_service_task(cls._eval_service_task))
            _patches.apply(ContextObject, "update_task_token", _recorded_token(ContextObject.update_task_token))
        return self

    def close(self) -> None:
        global _active
        if _active is self:
            _patches.undo()
            _active = None
        with self._lock:  # executions still winding down may record no more
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps({**record, "session": self.session}, default=str) + "\n"
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, line.encode())

    def record_call(self, principal: dict[str, str], service: str, operation: str, params: dict[str, Any],
                    region: str | None = REGION) -> None:
        self.write({"kind": "call", "principal": principal, "service": service, "operation": operation,
                    "region": region, "params": scrub_parameters(params, self.item_keys)})

    def record_deployment(self, stack_name: str, template_path: Path, resources: dict[str, str]) -> None:
        template = json.loads(Path(template_path).read_text())
        self.write({"kind": "deployment", "stack": stack_name, "template": str(template_path),
                    "account": ACCOUNT_ID, "region": REGION, "resources": resources,
                    "values": resolved_references(stack_name, template)})


def record_deployment(stack_name: str, template_path: Path, resources: dict[str, str]) -> None:
    """A stack deployed into the running LocalStack (`deploy_stack`): its principals' calls are recorded too."""
    if _active is not None:
        _active.record_deployment(stack_name, template_path, resources)


def record_function_call(function_name: str, service: str, operation: str, params: dict[str, Any],
                         region: str | None = REGION) -> None:
    """A call Lambda makes with a function's role on the function's behalf (an on-failure destination...)."""
    if _active is not None:
        _active.record_call({"type": "function", "name": function_name}, service, operation, params, region)


def key_attributes(template: dict[str, Any]) -> set[str]:
    """The key attributes of the template's tables: the only item attributes a call record keeps."""
    return {str(key["AttributeName"]) for resource in template.get("Resources", {}).values()
            if resource.get("Type") == "AWS::DynamoDB::Table"
            for key in resource.get("Properties", {}).get("KeySchema", [])}


def references(node: Any) -> Iterator[tuple[str, Any]]:
    """Every `Ref` and `Fn::GetAtt` in a template fragment, as (`Ref:Id` / `GetAtt:Id.Attr`, the intrinsic)."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            yield f"Ref:{node['Ref']}", node
        elif set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            yield "GetAtt:" + (target if isinstance(target, str) else ".".join(map(str, target))), node
        else:
            for value in node.values():
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def resolved_references(stack_name: str, template: dict[str, Any]) -> dict[str, Any]:
    """What each reference of the template's resources resolved to in moto's CloudFormation (in process)."""
    stack = cloudformation_backends[ACCOUNT_ID][REGION].get_stack(stack_name)
    values: dict[str, Any] = {}
    for name, intrinsic in references(template.get("Resources", {})):
        if name not in values:
            try:
                values[name] = clean_json(intrinsic, stack.resource_map)
            except Exception:  # a type moto does not model (shimmed): nothing of IAM's refers to it
                values[name] = None
    return values


# --- the state machines' own calls (moto's interpreter, in this process) ------------------------------------------
def _machine(context: dict[str, Any]) -> dict[str, str]:
    return {"type": "stateMachine", "arn": context["StateMachine"]["Id"], "execution": context["Execution"]["Id"]}


def _recorded_lambda_integration(original: Any) -> Any:
    def execute_recorded(env: Any, parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
        if _active is not None:
            _active.record_call(_machine(env.states.context_object.context_object_data), "lambda", "Invoke",
                                parameters, region)
        return original(env=env, parameters=parameters, region=region, state_credentials=state_credentials)

    return execute_recorded


def _recorded_service_task(original: Any) -> Any:
    def eval_recorded(self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict[str, Any],
                      state_credentials: Any) -> Any:
        if _active is not None:
            action = str(self.resource.api_action)
            _active.record_call(_machine(env.states.context_object.context_object_data),
                                self._get_boto_service_name(), action[:1].upper() + action[1:],
                                normalised_parameters, resource_runtime_part.region)
        return original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    return eval_recorded


def _recorded_token(original: Any) -> Any:
    def update_task_token_recorded(self: ContextObject) -> str:
        token: str = original(self)
        if _active is not None:
            context: Any = self.context_object_data
            _active.write({"kind": "token", "token": token_digest(token), "execution": context["Execution"]["Id"],
                           "state_machine": context["StateMachine"]["Id"]})
        return token

    return update_task_token_recorded
