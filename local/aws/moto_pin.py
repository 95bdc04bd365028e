"""The moto the local harness is written against, checked before anything is patched.

The harness replaces moto internals (the attributes in `TARGETS`, by the shim module that patches them). Another
moto release, or one whose internals moved, must not fail later in some test with an AttributeError or, worse,
behave differently without failing: it fails at once, with one `MotoMismatch` naming the installed and pinned
versions and every moved target (`module.Class.attr`).

- `import local.aws` compares the installed version with the pin in requirements/dev.txt (cheap, and before any
  shim module imports a moto name that may have moved);
- `check()` also resolves every target; `patched(*modules)` checks, then installs the shim modules and removes
  them on exit: LocalStack and the bench install patches only through it;
- `Patches.apply` refuses a target that does not exist (`local.aws.patches`).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from local.aws.patches import applied_targets

PIN_FILE = Path(__file__).resolve().parents[2] / "requirements" / "dev.txt"
_SFN = "moto.stepfunctions.parser"
_TASKS = f"{_SFN}.asl.component.state.exec.state_task.service"
_EXECUTION = f"{_SFN}.backend.execution"

# Every moto attribute a shim replaces, by shim module (a test checks this equals what a running stack patched).
TARGETS: dict[str, tuple[str, ...]] = {
    "time_warp": (
        f"{_SFN}.asl.component.state.wait.wait_function.wait_function.WaitFunction._wait_interval",
        f"{_SFN}.asl.component.state.exec.execute_state.threading",
        f"{_SFN}.asl.component.state.exec.execute_state.ExecutionState._evaluate_with_timeout",
        f"{_SFN}.asl.eval.callback.callback.Event",
        f"{_SFN}.asl.component.program.program.threading",
        f"{_SFN}.asl.component.common.retry.retrier_decl.time",
    ),
    "cfn_shims": (
        "moto.stepfunctions.models.stepfunctions_backends",
        "moto.cloudformation.custom_model.threading",
        "moto.cloudformation.custom_model.settings",
        "moto.cloudformation.responses.CloudFormationResponse.process_cfn_response",
        "moto.dynamodb.models.table.Table.create_from_cloudformation_json",
    ),
    "eventbridge": (
        "moto.events.models.Rule.send_to_targets",
        f"{_EXECUTION}.BaseExecutionWorkerCommunication.terminated",
        f"{_EXECUTION}.Execution.start",
    ),
    "stop_execution": (
        f"{_EXECUTION}.Execution.stop",
        f"{_SFN}.asl.eval.event.event_manager.EventManager.add_event",
    ),
    "dynamodb_atomic": tuple(f"moto.dynamodb.responses.DynamoHandler.{name}" for name in (
        "put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items",
        "get_item", "batch_get_item", "query", "scan", "transact_get_items")),
    "sfn_integrations": (
        f"{_TASKS}.state_task_service_sfn.StateTaskServiceSfn._normalise_parameters",
        f"{_TASKS}.state_task_service_aws_sdk.StateTaskServiceAwsSdk._normalise_parameters",
        f"{_TASKS}.state_task_service_callback.StateTaskServiceCallback._from_error",
        f"{_SFN}.asl.eval.callback.callback.CallbackPoolManager.notify",
        f"{_SFN}.asl.eval.callback.callback.CallbackPoolManager.heartbeat",
        f"{_SFN}.models.StepFunctionsParserBackend._get_executions",
    ),
    "sqs_queues": (
        "moto.sqs.models.Message.delay",
        "moto.sqs.models.Message.change_visibility",
        "moto.sqs.models.SQSBackend.receive_message",
        "moto.sqs.models.SQSBackend.send_message",
        "moto.sqs.models.SQSBackend.delete_message",
        "moto.sqs.models.SQSBackend.change_message_visibility",
    ),
    "event_sources": ("moto.awslambda.models.LambdaBackend.create_event_source_mapping",),
    "moto_speed": (
        "moto.backends.list_of_moto_modules",
        f"{_SFN}.asl.component.state.exec.state_task.lambda_eval_utils.boto_client_for",
        *(f"{_TASKS}.state_task_service_{module}.boto_client_for"
          for module in ("aws_sdk", "dynamodb", "events", "sfn", "sns", "sqs")),
    ),
    "s3_presign": ("moto.s3.responses.S3Response.key_response", "moto.s3.responses.S3Response.bucket_response"),
    "lambda_runtime": (
        "moto.awslambda.models.LambdaFunction._invoke_lambda",
        "moto.awslambda.models.LambdaFunction.invoke",
        "moto.s3.notifications._invoke_awslambda",
    ),
    # The IAM proof's recorder (installed only when a test session asks for the call log).
    "call_log": (
        f"{_SFN}.asl.component.state.exec.state_task.lambda_eval_utils.execute_lambda_function_integration",
        *(f"{_TASKS}.state_task_service_{module}.StateTaskService{cls}._eval_service_task" for module, cls in (
            ("sfn", "Sfn"), ("aws_sdk", "AwsSdk"), ("dynamodb", "DynamoDB"), ("sqs", "Sqs"), ("sns", "Sns"),
            ("events", "Events"))),
        f"{_SFN}.asl.eval.states.ContextObject.update_task_token",
    ),
}
# Attributes a shim adds because moto lacks them (`Patches.add`): they must still be absent.
ADDED: dict[str, tuple[str, ...]] = {
    "cfn_shims": ("moto.apigateway.models.Deployment.physical_resource_id",),
}


class MotoMismatch(RuntimeError):
    """The installed moto is not the one the harness's patches were written against."""


def pinned_version(pin_file: Path = PIN_FILE) -> str:
    match = re.search(r"^moto==(\S+)", pin_file.read_text(), re.MULTILINE) if pin_file.exists() else None
    if not match:
        raise MotoMismatch(f"no moto==<version> pin in {pin_file}")
    return match.group(1)


def installed_version() -> str:
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def moved_targets() -> list[str]:
    """Each target that is not where the shims expect it, as `module.Class.attr (shim: reason)`."""
    moved = [f"{target} ({shim}: missing)" for shim, targets in TARGETS.items() for target in targets
             if not _exists(target)]
    ours = applied_targets()  # an added attribute exists while its shim is installed
    moved += [f"{target} ({shim}: now exists, the shim adds it)" for shim, targets in ADDED.items()
              for target in targets
              if (_exists(target) and target not in ours) or not _exists(target.rsplit(".", 1)[0])]
    return moved


def check_version() -> None:
    """Raise `MotoMismatch` if the installed moto is not the pinned one (then naming the moved targets too)."""
    installed, pinned = installed_version(), pinned_version()
    if installed != pinned:
        raise MotoMismatch(_message(installed, pinned, moved_targets()))


def check() -> None:
    """Raise `MotoMismatch` unless the pinned moto is installed and every patch target is where it should be."""
    installed, pinned, moved = installed_version(), pinned_version(), moved_targets()
    if installed != pinned or moved:
        raise MotoMismatch(_message(installed, pinned, moved))


@contextmanager
def patched(*modules: ModuleType) -> Iterator[None]:
    """`check()`, then each shim module's `install()`; on exit their `uninstall()`, last first."""
    check()
    installed: list[ModuleType] = []
    try:
        for module in modules:
            module.install()
            installed.append(module)
        yield
    finally:
        for module in reversed(installed):
            module.uninstall()


def _message(installed: str, pinned: str, moved: list[str]) -> str:
    lines = [f"the local AWS harness patches moto {pinned} (requirements/dev.txt); installed: moto {installed}"]
    lines += [f"  moved: {target}" for target in moved] or ["  (every patched attribute is still in place)"]
    lines.append("Install the pinned moto (make venv), or update the shims and the pin together.")
    return "\n".join(lines)


def _exists(dotted: str) -> bool:
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False
