"""Make moto 5.2.5's CloudFormation deploy a CDK-synthesized template faithfully enough.

`install()`:
- registers the missing resource models (`cfn_models`);
- `Ref` to an `AWS::ApiGateway::Deployment` returns its id (moto returns the object);
- state machines created by CloudFormation land in the executing Step Functions backend (moto writes them to
  the plain backend, which `execute_state_machine` mode never reads);
- `AWS::DynamoDB::Table` applies `TimeToLiveSpecification` (moto ignores it);
- custom resources (`Custom::*`) run synchronously during `create_stack` with string-valued properties (as
  CloudFormation sends them), their `ResponseURL` points at the moto server on loopback, and the response
  only marks that resource (moto's own handler re-walks the whole stack from another thread). A FAILED
  response, or a provider that errors without answering, fails the stack with the provider's reason.
"""

from __future__ import annotations

import json
import threading
import types
import urllib.parse
from collections.abc import Iterable
from typing import Any

from moto import settings as moto_settings
from moto.apigateway.models import Deployment
from moto.cloudformation import custom_model, parsing
from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.dynamodb.models.table import Table

from local.aws import cfn_models
from local.aws.patches import Patches

_PHYSICAL_ID = "physical_resource_id"  # moto bug: Ref to a Deployment returns the object, not its id
_patches = Patches()
_responses: list[dict[str, Any]] = []
_responses_lock = threading.Lock()


def install() -> None:
    """Idempotent; `uninstall()` restores moto."""
    if _patches.applied:
        return
    import moto.stepfunctions.models as sfn_models
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    _patches.add(Deployment, _PHYSICAL_ID, property(lambda self: self.id))
    _patches.apply(sfn_models, "stepfunctions_backends", stepfunctions_parser_backends)
    _patches.apply(custom_model, "threading", types.SimpleNamespace(Thread=_SynchronousInvocation))
    # The provider answers from this host; also spares moto's Docker host probe (it shells out to curl).
    _patches.apply(custom_model, "settings", types.SimpleNamespace(
        moto_server_host=lambda: "http://127.0.0.1", moto_server_port=moto_settings.moto_server_port))
    _patches.apply(CloudFormationResponse, "process_cfn_response", _process_cfn_response)
    _patches.apply(Table, "create_from_cloudformation_json", classmethod(_create_table_with_ttl))
    _clear_model_caches()


def uninstall() -> None:
    if not _patches.applied:
        return
    _patches.undo()
    with _responses_lock:
        _responses.clear()
    _clear_model_caches()


def unsupported_types(template: dict[str, Any]) -> list[str]:
    """Resource types moto would skip with only a warning (fail fast on them instead)."""
    models = parsing.get_model_map()
    types_used: Iterable[str] = (r["Type"] for r in template.get("Resources", {}).values())
    return sorted({t for t in types_used if not t.startswith("Custom::") and t not in models
                   and t != "AWS::CDK::Metadata"})


def custom_resource_responses() -> list[dict[str, Any]]:
    """Every answer a custom resource provider sent (Status, Reason, LogicalResourceId, ...)."""
    with _responses_lock:
        return list(_responses)


def _clear_model_caches() -> None:
    assert cfn_models.SHIM_TYPES  # the import registers the models
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


def _create_table_with_ttl(cls: type[Table], resource_name: str, cloudformation_json: dict[str, Any],
                           account_id: str, region_name: str, **kwargs: Any) -> Table:
    table: Table = _patches.original(Table, "create_from_cloudformation_json").__func__(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    ttl = cloudformation_json["Properties"].get("TimeToLiveSpecification")
    if ttl and str(ttl.get("Enabled")).lower() == "true":
        table.ttl = {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl["AttributeName"]}
    return table


def cfn_strings(value: Any) -> Any:
    """CloudFormation hands custom resources every scalar property as a string (booleans as "true")."""
    if isinstance(value, dict):
        return {k: cfn_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cfn_strings(v) for v in value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


def _loopback_url(url: str) -> str:
    # moto would address the answer to host.docker.internal:$MOTO_PORT; the workers run on this host.
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))


class _SynchronousInvocation:
    """Stands in for `threading.Thread` in `moto.cloudformation.custom_model`: runs the provider now."""

    def __init__(self, target: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> None:
        self._invoke = target
        self._event = json.loads(args[0])

    def start(self) -> None:
        event = self._event
        event["ResourceProperties"] = cfn_strings(event["ResourceProperties"])
        event["ResponseURL"] = _loopback_url(event["ResponseURL"])
        response_headers: dict[str, str] = {}
        payload = self._invoke(json.dumps(event), {}, response_headers)
        if not _answered(event["RequestId"]):
            error = payload.decode() if isinstance(payload, bytes) else str(payload)
            reason = f"provider returned without answering: {error}" if response_headers else \
                "provider returned without answering"
            _fail_stack(event["StackId"], event["LogicalResourceId"], reason)


def _answered(request_id: str) -> bool:
    with _responses_lock:
        return any(r.get("RequestId") == request_id for r in _responses)


def _process_cfn_response(self: CloudFormationResponse) -> tuple[int, dict[str, int], str]:
    answer = json.loads(self.body) if self.body else {}
    with _responses_lock:
        _responses.append(answer)
    stack = self.cloudformation_backend.get_stack(answer["StackId"])
    logical_id = answer["LogicalResourceId"]
    if answer.get("Status") == "SUCCESS":
        resource = stack.get_custom_resource(logical_id)
        if answer.get("PhysicalResourceId"):
            resource.resource_name = answer["PhysicalResourceId"]  # what Ref returns
        resource.set_data(answer.get("Data") or {})
    else:
        _fail_stack(answer["StackId"], logical_id, answer.get("Reason") or "FAILED without a reason")
    return 200, {"status": 200}, json.dumps("{}")


def _fail_stack(stack_id: str, logical_id: str, reason: str) -> None:
    account_id, region = stack_id.split(":")[4], stack_id.split(":")[3]
    stack = cloudformation_backends[account_id][region].get_stack(stack_id)
    stack.status = "CREATE_FAILED"
    stack._add_stack_event("CREATE_FAILED", resource_status_reason=f"{logical_id}: {reason}")
