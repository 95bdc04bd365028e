"""Who the principals of a synthesized template are (each Lambda function, each state machine) and what their roles'
policies say, read from the template with the values one local deployment gave its references.

A role's statements come from its inline `Policies`, the `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` resources
attached to it, and its `ManagedPolicyArns` (AWS managed policies: their documents as moto ships them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.iam.evaluator import Statement

_NO_VALUE = object()
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")


@dataclass(frozen=True)
class Deployment:
    """One local deployment of a template, as the call log recorded it."""

    id: str
    stack: str
    template: Mapping[str, Any]
    account: str
    region: str
    resources: Mapping[str, str]  # logical id -> physical id
    values: Mapping[str, Any]  # "Ref:Id" / "GetAtt:Id.Attr" -> what it resolved to


@dataclass(frozen=True)
class Principal:
    label: str  # the handler module of a function ("start_job"), the last part of a state machine's name ("Job")
    kind: str  # "function" | "stateMachine"
    logical_id: str
    physical: str  # function name / state machine ARN
    statements: tuple[Statement, ...]


def resolve(node: Any, deployment: Deployment) -> Any:
    """The template fragment with its intrinsic functions evaluated for this deployment."""
    if isinstance(node, list):
        return [v for v in (resolve(item, deployment) for item in node) if v is not _NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (name, argument), = node.items()
        if name == "Ref" or name == "Fn::GetAtt":
            return _reference(name, argument, deployment)
        if name == "Fn::Join":
            separator, parts = argument
            return str(separator).join(str(p) for p in resolve(parts, deployment))
        if name == "Fn::Sub":
            return _substitute(argument, deployment)
        if name.startswith("Fn::") or name == "Condition":
            raise ValueError(f"intrinsic {name} is not resolved here (tests/iam/policies.py)")
    return {k: v for k, v in ((k, resolve(v, deployment)) for k, v in node.items()) if v is not _NO_VALUE}


def _reference(name: str, argument: Any, deployment: Deployment) -> Any:
    pseudo = {"AWS::AccountId": deployment.account, "AWS::Region": deployment.region, "AWS::Partition": "aws",
              "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": deployment.stack, "AWS::NoValue": _NO_VALUE}
    if name == "Ref":
        return pseudo[argument] if argument in pseudo else deployment.values[f"Ref:{argument}"]
    target = argument if isinstance(argument, str) else ".".join(argument)
    return deployment.values[f"GetAtt:{target}"]


def _substitute(argument: Any, deployment: Deployment) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(resolve(variables[name], deployment))
        if "." in name and not name.startswith("AWS::"):
            return str(_reference("Fn::GetAtt", name, deployment))
        return str(_reference("Ref", name, deployment))

    return re.sub(r"\$\{([^}!]+)\}", value, str(text))


def principals(deployment: Deployment) -> dict[str, Principal]:
    """Every function and state machine of the template, by physical id (function name, state machine ARN)."""
    found: dict[str, Principal] = {}
    for lid, resource in deployment.template["Resources"].items():
        kind, role = _role_of(resource)
        if kind is None or role is None or lid not in deployment.resources:
            continue
        physical = deployment.resources[lid]
        found[physical] = Principal(_label(lid, resource), kind, lid, physical,
                                    tuple(role_statements(deployment, role)))
    return found


def _role_of(resource: Mapping[str, Any]) -> tuple[str | None, str | None]:
    properties = resource.get("Properties", {})
    if resource["Type"] == "AWS::Lambda::Function":
        return "function", _logical_target(properties.get("Role"))
    if resource["Type"] == "AWS::StepFunctions::StateMachine":
        return "stateMachine", _logical_target(properties.get("RoleArn"))
    return None, None


def _logical_target(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def _label(logical_id: str, resource: Mapping[str, Any]) -> str:
    properties = resource.get("Properties", {})
    handler = str(properties.get("Handler", ""))
    if handler.endswith(".app.lambda_handler"):
        return handler.split(".")[0]
    name = properties.get("StateMachineName")
    if isinstance(name, str):
        return name.rsplit("-", 1)[-1]
    return _CDK_HASH.sub("", logical_id)


def role_statements(deployment: Deployment, role: str) -> Iterator[Statement]:
    resources = deployment.template["Resources"]
    properties = resources[role]["Properties"]
    for policy in properties.get("Policies", []):
        yield from _statements(f"{role}/{policy['PolicyName']}", resolve(policy["PolicyDocument"], deployment))
    for lid, resource in resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and \
                {"Ref": role} in resource["Properties"].get("Roles", []):
            yield from _statements(lid, resolve(resource["Properties"]["PolicyDocument"], deployment))
    for arn in resolve(properties.get("ManagedPolicyArns", []), deployment):
        yield from _statements(arn.split("/")[-1], aws_managed_policy(arn))


def _statements(source: str, document: Mapping[str, Any]) -> Iterator[Statement]:
    body = document["Statement"]
    for index, statement in enumerate([body] if isinstance(body, dict) else body):
        yield Statement(f"{source}[{index}]", statement)


@cache
def _aws_managed() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


def aws_managed_policy(arn: str) -> Mapping[str, Any]:
    name = arn.split("/")[-1]
    if not arn.startswith("arn:aws:iam::aws:policy/") or name not in _aws_managed():
        raise KeyError(f"{arn}: not an AWS managed policy moto knows")
    return dict(_aws_managed()[name]["Document"])
