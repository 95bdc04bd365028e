"""The synthesized template as the diagram reads it: resources, their construct paths (from the
`<stack>.metadata.json` that `cdk synth` writes beside the template), what a value refers to, and who is granted
what."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_BUS = "DefaultEventBus"  # the account's default bus: no resource in the template, named in ARNs only


@dataclass
class Template:
    resources: dict[str, dict[str, Any]]
    paths: dict[str, list[str]]  # logical id -> construct path, without the stack and the trailing Resource
    names: dict[str, str] = field(default_factory=dict)  # physical name given in the template -> logical id

    def __post_init__(self) -> None:
        for lid, r in self.resources.items():
            for key, value in r.get("Properties", {}).items():
                if key.endswith("Name") and key[:-4] in r["Type"] and isinstance(value, str):
                    self.names[value] = lid  # StateMachineName, QueueName, TableName, EventBusName, ...

    def of_type(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(lid, r.get("Properties", {})) for lid, r in self.resources.items() if r["Type"] == kind]

    def kind(self, lid: str) -> str:
        return "AWS::Events::EventBus" if lid == DEFAULT_BUS else str(self.resources[lid]["Type"])

    def name(self, lid: str) -> str:
        return "default" if lid == DEFAULT_BUS else self.paths.get(lid, [lid])[-1]

    def group(self, lid: str) -> str:
        """The pipeline's construct a resource belongs to (Storage, Ingest, ...); "" if none."""
        path = self.paths.get(lid, [])
        return path[1] if len(path) > 2 else ""

    def targets(self, value: Any) -> list[str]:
        """Resources a value refers to: by Ref/Fn::GetAtt, or by a physical name at the end of an ARN it builds."""
        found = []
        for text in leaves(value):
            found += re.findall(r"@\{(\w+)\}", text)
            found += [lid for name, lid in self.names.items() if re.search(rf"[:/]{re.escape(name)}(:\*)?$", text)]
            found += [DEFAULT_BUS] if text.endswith(":event-bus/default") else []
        return [lid for lid in dict.fromkeys(found) if lid in self.resources or lid == DEFAULT_BUS]

    def grants(self, principal: str) -> list[tuple[str, Any]]:
        """(action, resource) pairs of the policies attached to a function's or state machine's role."""
        properties = self.resources[principal].get("Properties", {})
        role = self.targets(properties.get("Role") or properties.get("RoleArn"))
        pairs = []
        for _, policy in self.of_type("AWS::IAM::Policy"):
            if set(role) & set(self.targets(policy.get("Roles", []))):
                for st in policy["PolicyDocument"]["Statement"]:
                    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                    resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                    pairs += [(a, r) for a in actions for r in resources]
        return pairs


def leaves(value: Any) -> list[str]:
    """Every string a value holds (an Fn::Join, a Ref or an Fn::GetAtt is one string: see flatten)."""
    if isinstance(value, dict) and not {"Fn::Join", "Ref", "Fn::GetAtt"} & set(value):
        return [text for v in value.values() for text in leaves(v)]
    if isinstance(value, list):
        return [text for v in value for text in leaves(v)]
    return [flatten(value)] if value is not None else []


def flatten(value: Any) -> str:
    """A CloudFormation value as one string: Fn::Join joined, Ref and Fn::GetAtt written as @{LogicalId}."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(flatten(v) for v in value)
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(flatten(p) for p in parts)
        if "Ref" in value:
            return f"@{{{value['Ref']}}}"
        if "Fn::GetAtt" in value:
            return f"@{{{value['Fn::GetAtt'][0]}}}"
        return " ".join(flatten(v) for v in value.values())
    return str(value)


def load(template_path: Path) -> Template:
    metadata_path = template_path.with_name(template_path.name.replace(".template.json", ".metadata.json"))
    paths: dict[str, list[str]] = {}
    for path, entries in json.loads(metadata_path.read_text()).items():
        for entry in entries:
            if entry["type"] == "aws:cdk:logicalId":
                parts = [p for p in path.strip("/").split("/")[1:] if p not in ("Resource", "Default")]
                paths[entry["data"]] = parts
    return Template(json.loads(template_path.read_text())["Resources"], paths)
