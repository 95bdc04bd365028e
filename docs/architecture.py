"""What the diagram shows, read from the synthesized template: functions, the state machines and their states,
the S3 notifications, the webhook route, tables and secrets with the functions allowed to use them, alarms."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANDLER = re.compile(r"^(\w+)\.app\.lambda_handler$")
# A Task state's service integration: arn:<partition>:states:::[aws-sdk:]<service>:<action>[.<pattern>]
INTEGRATION = re.compile(r":states:::(?P<sdk>aws-sdk:)?(?P<service>[\w-]+):(?P<action>\w+)(?:\.(?P<pattern>\w+))?$")


@dataclass(frozen=True)
class Store:
    kind: str  # "DynamoDB table" | "Secret"
    name: str
    used_by: list[str]


@dataclass(frozen=True)
class Machine:
    logical_id: str
    name: str  # StateMachineName
    kind: str  # "STANDARD" | "EXPRESS"
    definition: dict[str, Any]  # the ASL, resource references written as @{LogicalId}

    @property
    def short(self) -> str:  # "Job", "Poller": the construct id
        return _short(self.logical_id)

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        return dict(self.definition["States"])

    def all_state_names(self) -> set[str]:
        """Every state, also those inside Parallel/Map branches."""
        return _state_names(self.definition)

    def waits_for_token(self) -> bool:
        return any(integration(s).get("pattern") == "waitForTaskToken" for s in self.states.values())


@dataclass
class Architecture:
    functions: dict[str, str]  # logical id -> handler module (start_job, ...)
    machines: list[Machine]
    notifications: list[tuple[str, str]]  # (key prefix, handler module)
    webhook_route: str  # "POST /webhook"
    throttle: str
    stores: list[Store]
    rule_statuses: list[str]
    rule_target: str | None
    rule_machine: str | None  # logical id of the state machine the rule watches
    alarms: list[str]
    queues: list[str]
    vendor_url: str
    resource_count: int
    buckets: int = 0
    stream_consumers: list[str] = field(default_factory=list)  # handlers a table's stream invokes (job events)
    event_bus: str = ""  # where the job events go (the consumer's EVENT_BUS_NAME)

    def handler_of(self, reference: str) -> str | None:
        match = re.search(r"@\{(\w+)\}", reference)
        return self.functions.get(match.group(1)) if match else None

    def machine_of(self, reference: str) -> Machine | None:
        """The state machine an ARN names: @{LogicalId}, or an ARN built from its name."""
        return next((m for m in self.machines if reference == f"@{{{m.logical_id}}}"
                     or reference.endswith(f":stateMachine:{m.name}")), None)

    @property
    def job(self) -> Machine:
        """The machine a job runs in: the one waiting on a task token (else the first Standard one)."""
        return next((m for m in self.machines if m.waits_for_token()),
                    next((m for m in self.machines if m.kind == "STANDARD"), self.machines[0]))

    @property
    def poller(self) -> Machine | None:
        return next((m for m in self.machines if m is not self.job), None)


def integration(state: dict[str, Any]) -> dict[str, str]:
    """A Task state's service integration: sdk ("aws-sdk:" or ""), service, action, pattern ("" if none); {} for
    a Lambda function called by its ARN."""
    match = INTEGRATION.search(str(state.get("Resource", "")))
    return {k: v or "" for k, v in match.groupdict().items()} if match else {}


def _state_names(definition: dict[str, Any]) -> set[str]:
    names = set(definition["States"])
    for state in definition["States"].values():
        for branch in [*state.get("Branches", []), *([state["ItemProcessor"]] if "ItemProcessor" in state else [])]:
            names |= _state_names(branch)
    return names


def read_template(path: Path) -> Architecture:
    template = json.loads(path.read_text())
    resources: dict[str, dict[str, Any]] = template["Resources"]
    of_type = _by_type(resources)
    functions = {lid: m.group(1) for lid, r in of_type("AWS::Lambda::Function")
                 if (m := HANDLER.match(str(r["Properties"].get("Handler", ""))))}
    rule: dict[str, Any] = next((r["Properties"] for _, r in of_type("AWS::Events::Rule")), {})
    consumers = [functions[lid] for _, r in of_type("AWS::Lambda::EventSourceMapping")
                 if "StreamArn" in json.dumps(r["Properties"].get("EventSourceArn"))
                 for lid in _refs(r["Properties"].get("FunctionName")) if lid in functions]
    watched = _refs(rule.get("EventPattern", {}).get("detail", {}).get("stateMachineArn"))
    return Architecture(
        functions=functions,
        machines=[Machine(lid, _flatten(r["Properties"].get("StateMachineName", _short(lid))),
                          str(r["Properties"].get("StateMachineType", "STANDARD")),
                          json.loads(_flatten(r["Properties"]["DefinitionString"])))
                  for lid, r in of_type("AWS::StepFunctions::StateMachine")],
        notifications=_notifications(of_type("Custom::S3BucketNotifications"), functions),
        webhook_route=_route(of_type("AWS::ApiGateway::Method"), resources),
        throttle=_throttle(of_type("AWS::ApiGateway::Stage")),
        stores=_stores(resources, functions),
        rule_statuses=list(rule.get("EventPattern", {}).get("detail", {}).get("status", [])),
        rule_target=next((functions.get(lid) for t in rule.get("Targets", []) for lid in _refs(t.get("Arn"))
                          if lid in functions), None),
        rule_machine=watched[0] if watched else None,
        alarms=[_short(lid) for lid, _ in of_type("AWS::CloudWatch::Alarm")],
        queues=[_short(lid) for lid, _ in of_type("AWS::SQS::Queue")],
        vendor_url=str(template.get("Parameters", {}).get("VendorBaseUrl", {}).get("Default", "")),
        resource_count=len(resources),
        buckets=len(of_type("AWS::S3::Bucket")),
        stream_consumers=consumers,
        event_bus=next((str(r["Properties"].get("Environment", {}).get("Variables", {}).get("EVENT_BUS_NAME", ""))
                        for lid, r in of_type("AWS::Lambda::Function") if functions.get(lid) in consumers), ""),
    )


def _by_type(resources: dict[str, dict[str, Any]]) -> Any:
    def of_type(kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(lid, r) for lid, r in resources.items() if r["Type"] == kind]
    return of_type


def _flatten(value: Any) -> str:
    """Fn::Join of strings and references -> one string, references written as @{LogicalId}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flatten(p) for p in parts)
    refs = _refs(value)
    return "".join(f"@{{{r}}}" for r in refs) or "?"


def _refs(value: Any) -> list[str]:
    """Logical ids referenced anywhere in `value` (Ref and Fn::GetAtt)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return [str(value["Ref"])]
        if "Fn::GetAtt" in value:
            return [str(value["Fn::GetAtt"][0])]
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _short(logical_id: str) -> str:
    name = re.sub(r"[0-9A-F]{8}$", "", logical_id)
    return re.sub(r"^(Pipeline)?(Storage|Monitoring|Ingest|JobWorkflow|WebhookIngress|JobEvents)?", "", name) or name


def _notifications(items: list[tuple[str, dict[str, Any]]], functions: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for _, r in items:
        for config in r["Properties"].get("NotificationConfiguration", {}).get("LambdaFunctionConfigurations", []):
            rules = config.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            prefix = next((str(f["Value"]) for f in rules if f["Name"] == "prefix"), "")
            found += [(prefix, functions[lid]) for lid in _refs(config["LambdaFunctionArn"]) if lid in functions]
    return found


def _route(methods: list[tuple[str, dict[str, Any]]], resources: dict[str, dict[str, Any]]) -> str:
    for _, m in methods:
        parts = [resources[lid]["Properties"].get("PathPart", "") for lid in _refs(m["Properties"].get("ResourceId"))
                 if lid in resources]
        return f"{m['Properties']['HttpMethod']} /{'/'.join(parts)}"
    return "POST /webhook"


def _throttle(stages: list[tuple[str, dict[str, Any]]]) -> str:
    for _, s in stages:
        for setting in s["Properties"].get("MethodSettings", []):
            if "ThrottlingRateLimit" in setting:
                return f"{setting['ThrottlingRateLimit']:g} rps, burst {setting.get('ThrottlingBurstLimit', '?')}"
    return ""


def _stores(resources: dict[str, dict[str, Any]], functions: dict[str, str]) -> list[Store]:
    """Tables and secrets, each with the functions whose role policies name it."""
    role_of = {lid: _refs(r["Properties"].get("Role"))[0] for lid, r in resources.items() if lid in functions}
    users: dict[str, set[str]] = {}
    for r in resources.values():
        if r["Type"] != "AWS::IAM::Policy":
            continue
        roles = set(_refs(r["Properties"].get("Roles", [])))
        named = {ref for st in r["Properties"]["PolicyDocument"]["Statement"] for ref in _refs(st.get("Resource"))
                 if "StreamArn" not in json.dumps(st.get("Resource"))}  # a stream's reader is drawn on its own
        for fn, role in role_of.items():
            if role in roles:
                for ref in named:
                    users.setdefault(ref, set()).add(functions[fn])
    kinds = {"AWS::DynamoDB::Table": "DynamoDB table", "AWS::SecretsManager::Secret": "Secret"}
    return [Store(kinds[r["Type"]], _short(lid), sorted(users.get(lid, set())))
            for lid, r in resources.items() if r["Type"] in kinds]
