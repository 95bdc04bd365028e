"""The IAM proof over a session's call log: each recorded call is allowed by its principal's policies in the
template, and each action granted to a principal is used by some call (or allowed to be unused, tests/iam/unused.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.iam import catalog
from tests.iam.actions import CallContext, UnknownCall, requests_for
from tests.iam.evaluator import Statement, evaluate
from tests.iam.policies import Deployment, Principal, principals

StatementKey = tuple[str, str]  # (principal label, statement source)


@dataclass(frozen=True)
class Call:
    session: str
    principal: Mapping[str, str]
    service: str
    operation: str
    params: Mapping[str, Any]
    via: str = "SDK call"  # or "presigned URL": made later by whoever holds the URL, authorised as its signer

    @property
    def principal_id(self) -> str:
        return self.principal.get("name") or self.principal.get("arn", "")

    def describe(self) -> str:
        return f"{self.service} {self.operation} {json.dumps(self.params, default=str)}"


@dataclass
class CallLog:
    """A session-wide log (local/aws/call_log.py): per LocalStack session, its deployments, calls and tokens."""

    deployments: dict[str, list[Deployment]] = field(default_factory=lambda: defaultdict(list))
    calls: list[Call] = field(default_factory=list)
    tokens: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))  # session -> digest -> SM

    @classmethod
    def read(cls, path: Path, stacks: Callable[[str], bool]) -> CallLog:
        """Everything the log holds of the deployments whose stack name `stacks` accepts."""
        log = cls()
        for row in (json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()):
            if row["kind"] == "deployment" and stacks(row["stack"]):
                log.deployments[row["session"]].append(Deployment(
                    f"{row['session']}/{row['stack']}", row["stack"], json.loads(Path(row["template"]).read_text()),
                    row["account"], row["region"], row["resources"], row["values"]))
            elif row["kind"] == "call":
                log.calls.append(Call(row["session"], row["principal"], row["service"], row["operation"],
                                      row["params"], row.get("via", "SDK call")))
            elif row["kind"] == "token":
                log.tokens[row["session"]][row["token"]] = row["state_machine"]
        return log


@dataclass
class Result:
    denied: list[str] = field(default_factory=list)  # one message per call that some policy does not allow
    used: set[tuple[StatementKey, str]] = field(default_factory=set)  # (statement, action in lower case)
    principals: dict[str, Principal] = field(default_factory=dict)  # by label
    calls: int = 0  # evaluated (made by a principal of an accepted deployment)


def check_calls(log: CallLog, templates: Mapping[str, Mapping[str, Any]] | None = None) -> Result:
    """Evaluates the calls of every accepted deployment's principals (against `templates[stack]` in place of the
    template deployed, if given). The grants are those of each session's first deployment (its LocalStack's own);
    the calls of the variants deployed beside it count as uses of the same statements."""
    result = Result()
    for session, deployments in log.deployments.items():
        found: dict[str, Principal] = {}
        for n, deployment in enumerate(deployments):
            if templates and deployment.stack in templates:
                deployment = replace(deployment, template=templates[deployment.stack])
            these = principals(deployment)
            found.update(these)
            if n == 0:
                result.principals.update({p.label: p for p in these.values()})
        context = _context(deployments, log.tokens[session])
        for call in (c for c in log.calls if c.session == session and c.principal_id in found):
            result.calls += 1
            _check(found[call.principal_id], call, context, result)
    return result


def _check(principal: Principal, call: Call, context: CallContext, result: Result) -> None:
    try:
        requests = requests_for(call.service, call.operation, call.params, context)
    except UnknownCall as exc:
        result.denied.append(f"{principal.label}: {call.describe()}: {exc}")
        return
    for request in requests:
        decision = evaluate(principal.statements, request)
        if not decision.allowed:
            result.denied.append(_denied(principal, call, request.action, request.resource, request.context,
                                         decision.denied_by))
        for statement in decision.allowed_by:
            result.used.add(((principal.label, statement.source), request.action.lower()))


def _denied(principal: Principal, call: Call, action: str, resource: str, keys: Mapping[str, Any],
            denied_by: Iterable[Statement]) -> str:
    why = "; ".join(f"denied by {s.describe()}" for s in denied_by) or (
        f"its role lacks a statement: Allow {action} on {resource}" + (f" with {dict(keys)}" if keys else ""))
    return f"{principal.kind} {principal.label} ({principal.physical}): {call.describe()}: {why}"


def _context(deployments: Iterable[Deployment], tokens: Mapping[str, str]) -> CallContext:
    partition_keys: dict[str, str] = {}
    secrets: list[str] = []
    for deployment in deployments:
        for lid, resource in deployment.template["Resources"].items():
            if lid not in deployment.resources:
                continue
            if resource["Type"] == "AWS::DynamoDB::Table":
                partition_keys[deployment.resources[lid]] = next(
                    k["AttributeName"] for k in resource["Properties"]["KeySchema"] if k["KeyType"] == "HASH")
            elif resource["Type"] == "AWS::SecretsManager::Secret":
                secrets.append(deployment.resources[lid])
    account, region = next((d.account, d.region) for d in deployments)
    return CallContext(account, region, partition_keys, tokens, tuple(secrets))


@dataclass(frozen=True)
class Grant:
    principal: str
    action: str  # lower case
    statement: Statement

    def describe(self) -> str:
        return f"{self.principal}: {self.action} ({self.statement.describe()})"


def granted(principal: Principal) -> list[Grant]:
    """Every action an Allow statement grants (wildcards expanded to the actions that apply to its resources)."""
    grants = []
    for statement in principal.statements:
        if statement.effect != "Allow" or "NotAction" in statement.body:
            continue
        resources = statement.values("Resource") or ["*"]
        for pattern in statement.values("Action"):
            expanded = catalog.expand(pattern)
            wildcard = len(expanded) != 1 or expanded[0] != pattern.lower()
            grants += [Grant(principal.label, action, statement) for action in expanded
                       if not wildcard or catalog.applies(action, resources)]
    return grants


def unused_grants(result: Result) -> list[Grant]:
    return [grant for principal in result.principals.values() for grant in granted(principal)
            if ((grant.principal, grant.statement.source), grant.action) not in result.used]
