"""PutEvents reaches every matching rule's SQS and Lambda targets, on the default bus and on a custom one, in the order
the events were put, shaped as EventBridge sends them (local.aws.eventbridge)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.aws.server import ACCOUNT_ID, REGION
from local.aws.stack import LocalStack
from local.eventually import eventually
from tests.local_aws.helpers import get_item

STATE_CHANGE = "FaceSwap Job State Change"


class Bus:
    """A custom bus, and queues to be rule targets, removed after the test."""

    def __init__(self, aws: LocalStack) -> None:
        self.aws, self.events, self.sqs = aws, aws.client("events"), aws.client("sqs")
        self.name = "jobs-test-bus"
        self.events.create_event_bus(Name=self.name)
        self.rules: list[tuple[str, str]] = []
        self.queues: list[str] = []

    def queue(self, name: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        self.queues.append(url)
        return url, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"

    def rule(self, name: str, pattern: dict[str, Any], *targets: dict[str, Any], bus: str = "default",
             state: str = "ENABLED") -> None:
        self.events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State=state)
        self.events.put_targets(Rule=name, EventBusName=bus, Targets=list(targets))
        self.rules.append((name, bus))

    def put(self, *details: dict[str, Any], bus: str = "default", source: str = "faceswap") -> None:
        entries = [{"Source": source, "DetailType": STATE_CHANGE, "Detail": json.dumps(d), "EventBusName": bus,
                    "Resources": ["arn:aws:s3:::bucket/jobs/a.json"]} for d in details]
        response = self.events.put_events(Entries=entries)
        assert response["FailedEntryCount"] == 0

    def received(self, url: str, count: int) -> list[Any]:
        bodies: list[Any] = []

        def more() -> list[Any] | None:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            bodies.extend(json.loads(m["Body"]) for m in messages)
            return bodies if len(bodies) >= count else None

        return eventually(more, 10, what=f"{count} messages")

    def close(self) -> None:
        for name, bus in self.rules:
            ids = [t["Id"] for t in self.events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]]
            self.events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
            self.events.delete_rule(Name=name, EventBusName=bus)
        self.events.delete_event_bus(Name=self.name)
        for url in self.queues:
            self.sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def bus(aws: LocalStack) -> Iterator[Bus]:
    created = Bus(aws)
    yield created
    created.close()


def test_custom_bus_events_reach_an_sqs_target_whole_and_in_order(bus: Bus) -> None:
    url, arn = bus.queue("job-events")
    pattern = {"source": ["faceswap"], "detail-type": [STATE_CHANGE], "detail": {"state": [{"anything-but": "QUEUED"}]}}
    bus.rule("job-events-to-queue", pattern, {"Id": "queue", "Arn": arn}, bus=bus.name)
    states = ["QUEUED", "STARTED", "SUCCEEDED", "FAILED"]
    bus.put(*({"jobId": f"job-{n}", "state": state} for n, state in enumerate(states)), bus=bus.name)
    bus.put({"jobId": "other", "state": "STARTED"}, bus=bus.name, source="someone.else")  # no match

    events = bus.received(url, 3)
    assert [(e["detail"]["jobId"], e["detail"]["state"]) for e in events] == [
        ("job-1", "STARTED"), ("job-2", "SUCCEEDED"), ("job-3", "FAILED")]
    first = events[0]
    assert set(first) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
                          "detail"}
    assert (first["source"], first["detail-type"], first["account"], first["region"]) == (
        "faceswap", STATE_CHANGE, ACCOUNT_ID, REGION)
    assert first["resources"] == ["arn:aws:s3:::bucket/jobs/a.json"] and first["time"].endswith("Z")
    assert bus.sqs.receive_message(QueueUrl=url).get("Messages") is None  # nothing more


def test_default_bus_rules_apply_input_options_skip_disabled_rules_and_survive_a_broken_target(
        aws: LocalStack, bus: Bus) -> None:
    details, inputs, disabled = bus.queue("details"), bus.queue("constant"), bus.queue("disabled")
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:no-such-queue"
    recorder = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{aws.function_name('Recorder')}"
    bus.rule("faceswap-details", {"source": ["faceswap"]}, {"Id": "broken", "Arn": missing},
             {"Id": "detail", "Arn": details[1], "InputPath": "$.detail"},
             {"Id": "constant", "Arn": inputs[1], "Input": '{"kind": "constant"}'},
             {"Id": "recorder", "Arn": recorder})
    bus.rule("faceswap-disabled", {"source": ["faceswap"]}, {"Id": "q", "Arn": disabled[1]}, state="DISABLED")

    bus.put({"name": "evb-1", "status": "STARTED"}, {"name": "evb-2", "status": "SUCCEEDED"})

    assert bus.received(details[0], 2) == [{"name": "evb-1", "status": "STARTED"},
                                           {"name": "evb-2", "status": "SUCCEEDED"}]
    assert bus.received(inputs[0], 2) == [{"kind": "constant"}] * 2
    item = eventually(lambda: get_item(aws, "failed#evb-2"), 10, what="the Lambda target's write")
    assert item["status"] == {"S": "SUCCEEDED"}
    assert bus.sqs.receive_message(QueueUrl=disabled[0]).get("Messages") is None
