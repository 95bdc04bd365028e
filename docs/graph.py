"""What the architecture diagram shows, as a graph read from the synthesized template; nothing here names a
resource of ours. Nodes: functions (by handler module), state machines and their main states (Choice, Pass and
Succeed states are followed through, not shown), and every resource an edge touches. Edges: S3 notifications,
event source mappings (queues, table streams), EventBridge rules, redrive and on-failure destinations, API
integrations, what each Task state calls, and the grants saying which function invokes, starts, signals, sends,
puts events, writes or reads what. A function that Task states invoke stands as those states."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from docs.template import DEFAULT_BUS, Template, flatten
from faceswap.layout import Env

DATA, ERROR = "data", "error"  # edge labels drawn as such: data access, and a state's Catch
ALARMS, VENDOR = "CloudWatchAlarms", "Vendor"  # the alarms as one node; the API outside the template
NOTIFIED = ("LambdaFunction", "Queue", "Topic")  # S3 notification targets (EventBridge: the default bus)
MAIN_STATES = {"Task", "Wait", "Map", "Parallel", "Fail"}
GRANTS = {"lambda:InvokeFunction": "invokes", "states:StartExecution": "starts", "states:SendTaskSuccess": "token",
          "states:SendTaskFailure": "token", "events:PutEvents": "puts events", "sqs:SendMessage": "sends",
          "s3:PutObject": "writes", "dynamodb:UpdateItem": DATA, "secretsmanager:GetSecretValue": DATA}
INTEGRATION = re.compile(r":states:::(?:aws-sdk:)?(?P<service>[\w-]+):(?P<action>\w+)(?P<pattern>\.\w+)?$")
Edge = tuple[str, str, str]  # source, target, label


def successors(state: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """The states a state can go to, each with whether it is a Catch."""
    yield from ((state[key], False) for key in ("Next", "Default") if key in state)
    yield from ((choice["Next"], False) for choice in state.get("Choices", []))
    yield from ((catch["Next"], True) for catch in state.get("Catch", []))


def reach(states: dict[str, Any], name: str, seen: set[str]) -> list[str]:
    """The main states reached from `name`, through the states that are not shown."""
    if name in seen:
        return []
    seen.add(name)
    if states[name]["Type"] in MAIN_STATES:
        return [name]
    return [m for following, _ in successors(states[name]) for m in reach(states, following, seen)]


class Graph:
    def __init__(self, template: Template) -> None:
        t = self.t = template
        providers = t.targets([r.get("Properties", {}).get("ServiceToken") for r in t.resources.values()])
        self.functions = {lid: str(p.get("Handler", "?")).split(".")[0]  # custom resource providers left out
                          for lid, p in t.of_type("AWS::Lambda::Function") if lid not in providers}
        self.machines = {lid: json.loads(flatten(p["DefinitionString"]))
                         for lid, p in t.of_type("AWS::StepFunctions::StateMachine")}
        self.states = {f"{m}_{i}": (m, n, s)  # node id -> (machine, state name, state)
                       for m, d in self.machines.items() for i, (n, s) in enumerate(d["States"].items())}
        self.node_of = {(m, n): node for node, (m, n, _) in self.states.items()}
        self.called_by: dict[str, list[str]] = {}  # function -> the Task states that invoke it
        for node, (_, _, state) in self.states.items():
            if (fn := self.task_function(state)) is not None:
                self.called_by.setdefault(fn, []).append(node)

    def task_function(self, state: dict[str, Any]) -> str | None:
        called = self.t.targets([state.get("Resource"), state.get("Parameters", {}).get("FunctionName")])
        return next((lid for lid in called if lid in self.functions), None) if state["Type"] == "Task" else None

    def nodes_for(self, lid: str, label: str | None = None) -> list[str]:
        """The nodes a resource stands as. A state machine started or signalled (a target: label given) is entered
        at its first main states, or at the states that wait for a task token for a token call."""
        if lid in self.machines and label is not None:
            states = self.machines[lid]["States"]
            waiting = [n for n, s in states.items() if ".waitForTaskToken" in str(s.get("Resource"))]
            names = waiting if "token" in label.lower() else reach(states, self.machines[lid]["StartAt"], set())
            return [self.node_of[lid, n] for n in names]
        return self.called_by.get(lid, [lid])

    def edges(self) -> dict[tuple[str, str], str]:
        """(source node, target node) -> label; the labels of parallel edges joined with " · "."""
        edges: dict[tuple[str, str], str] = {}
        for source, target, label in [*self.triggers(), *self.destinations(), *self.rules(), *self.grants(),
                                      *self.calls()]:
            for pair in ((s, d) for s in self.nodes_for(source) for d in self.nodes_for(target, label)):
                if label not in edges.setdefault(pair, label).split(" · "):
                    edges[pair] += f" · {label}"
        return edges

    def triggers(self) -> Iterator[Edge]:
        t = self.t
        for lid, p in t.of_type("Custom::S3BucketNotifications") + t.of_type("AWS::S3::Bucket"):
            bucket, config = (t.targets(p.get("BucketName")) or [lid])[0], p.get("NotificationConfiguration", {})
            for c in [c for kind in NOTIFIED for c in config.get(f"{kind}Configurations", [])]:
                label = " ".join(str(r["Value"]) for r in c.get("Filter", {}).get("Key", {}).get("FilterRules", []))
                yield from ((bucket, d, label or "objects") for d in t.targets({**c, "Filter": None}))
            yield from [(bucket, DEFAULT_BUS, "objects")] if "EventBridgeConfiguration" in config else []
        for _, p in t.of_type("AWS::Lambda::EventSourceMapping"):
            source = t.targets(p["EventSourceArn"])[0]
            label = "stream" if t.kind(source) == "AWS::DynamoDB::Table" else "batches"
            label += ", filtered" if p.get("FilterCriteria") else ""
            yield from ((source, d, label) for d in t.targets(p["FunctionName"]))
        for lid, p in t.of_type("AWS::ApiGateway::Method"):
            yield VENDOR, lid, "webhooks"
            yield from ((lid, d, "") for d in t.targets(p.get("Integration", {}).get("Uri")))
        for _, p in t.of_type("AWS::CloudWatch::Alarm"):
            yield from ((ALARMS, d, "") for d in t.targets(p.get("AlarmActions")))

    def destinations(self) -> Iterator[Edge]:
        t = self.t
        for _, p in t.of_type("AWS::Lambda::EventSourceMapping"):
            source = t.targets(p["EventSourceArn"])[0]
            yield from ((source, d, "on failure") for d in t.targets(p.get("DestinationConfig")))
        for _, p in t.of_type("AWS::Lambda::EventInvokeConfig"):
            yield from ((f, d, "on failure") for f in t.targets(p["FunctionName"])
                        for d in t.targets(p.get("DestinationConfig", {}).get("OnFailure")))
        for lid, p in t.of_type("AWS::SQS::Queue"):
            yield from ((lid, d, "redrive") for d in t.targets(p.get("RedrivePolicy", {}).get("deadLetterTargetArn")))

    def rules(self) -> Iterator[Edge]:
        for lid, p in self.t.of_type("AWS::Events::Rule"):
            pattern = p.get("EventPattern", {})
            watched = self.t.targets(pattern) or self.t.targets(p.get("EventBusName")) or [DEFAULT_BUS]
            label = ", ".join(pattern.get("detail", {}).get("status", []) or pattern.get("detail-type", []))
            yield from ((w, lid, label) for w in watched)
            for target in p.get("Targets", []):
                yield from ((lid, d, "") for d in self.t.targets(target["Arn"]))
                yield from ((lid, d, "dead letters") for d in self.t.targets(target.get("DeadLetterConfig")))

    def grants(self) -> Iterator[Edge]:
        for fn in self.functions:
            api_key = self.t.targets(self.t.resources[fn]["Properties"].get("Environment", {}).get(
                "Variables", {}).get(Env.API_KEY_SECRET_ARN))
            for action, resource in self.t.grants(fn):
                if action not in GRANTS or not (targets := self.t.targets(resource)):
                    continue
                if action == "secretsmanager:GetSecretValue" and targets == api_key:  # the key: drawn by the vendor
                    yield from [(fn, VENDOR, "calls"), (targets[0], VENDOR, DATA)]
                    continue
                prefix = flatten(resource).split("}", 1)[-1].strip("/*") if action.startswith("s3:") else ""
                yield from ((fn, d, f"{GRANTS[action]} {prefix}/" if prefix else GRANTS[action]) for d in targets)

    def calls(self) -> Iterator[Edge]:
        """A state machine's transitions between main states, and what its Task states call."""
        for node, (machine, _, state) in self.states.items():
            states = self.machines[machine]["States"]
            for following, caught in successors(state) if state["Type"] in MAIN_STATES else []:
                yield from ((node, self.node_of[machine, m], ERROR if caught else "")
                            for m in reach(states, following, set()))
            if (call := INTEGRATION.search(str(state.get("Resource", "")))) is None or self.task_function(state):
                continue
            iam = f"states:{call['action'][0].upper()}{call['action'][1:]}"  # the grant that names a token's machine
            called = [lid for a, r in self.t.grants(machine) if a == iam for lid in self.t.targets(r)] \
                if "SendTask" in iam else self.t.targets(state.get("Parameters", {}))
            yield from ((node, target, call["action"]) for target in called)
