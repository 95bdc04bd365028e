"""Every edge that AWS authorises with a resource policy or a service role, read from the synthesized template: the
right service principal is allowed, and only from the right source (`aws:SourceArn` / `aws:SourceAccount` where AWS
supports them). The resources are found by what connects them (a notification's target, an integration's URI...),
not by their logical ids. moto authorises none of these edges, so only this test shows them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.config import ConfigError, PipelineConfig
from tests.conftest import LOCAL_TEST_CONTEXT, Synthesized

Resources = dict[str, dict[str, Any]]
ACCOUNT = {"Ref": "AWS::AccountId"}


@pytest.fixture(scope="module")
def resources(synthesized: Synthesized) -> Resources:
    return dict(json.loads(synthesized.template_path.read_text())["Resources"])


def test_s3_may_send_to_the_start_queue_only_for_this_bucket_and_account(resources: Resources) -> None:
    [notifications] = _of_type(resources, "Custom::S3BucketNotifications").values()
    bucket = notifications["Properties"]["BucketName"]["Ref"]
    configuration = notifications["Properties"]["NotificationConfiguration"]
    assert "LambdaFunctionConfigurations" not in configuration  # uploads reach functions through the queue only
    queues = {_target(c["QueueArn"]) for c in configuration["QueueConfigurations"]}
    assert len(queues) == 1
    allowed = [s for s in _queue_statements(resources, queues.pop()) if s["Effect"] == "Allow"]
    # A bucket ARN names no account: AWS asks for aws:SourceAccount as well as the bucket's ARN.
    assert allowed == [{"Action": "sqs:SendMessage", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                        "Resource": allowed[0]["Resource"],
                        "Condition": {"ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [bucket, "Arn"]}},
                                      "StringEquals": {"aws:SourceAccount": ACCOUNT}}}]


def test_lambda_polls_the_start_queue_with_the_start_functions_role(resources: Resources) -> None:
    """The event source mapping reads and deletes with the function's role; AWS refuses to create it when the
    queue's visibility timeout is shorter than the function's timeout."""
    mapping = _mapping_of(resources, "AWS::SQS::Queue")
    queue, function = _target(mapping["EventSourceArn"]), mapping["FunctionName"]["Ref"]
    needed = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
    granted = {a for s in _role_statements(resources, function) if s["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
               for a in _as_list(s["Action"])}
    assert needed <= granted
    assert resources[queue]["Properties"]["VisibilityTimeout"] >= 6 * resources[function]["Properties"]["Timeout"]
    assert 2 <= mapping["ScalingConfig"]["MaximumConcurrency"] <= 1000


def test_api_gateway_may_invoke_the_webhook_only_for_post_webhook_of_this_api(resources: Resources) -> None:
    [method] = _of_type(resources, "AWS::ApiGateway::Method").values()
    function = _target(_referenced(method["Properties"]["Integration"]["Uri"], "Fn::GetAtt")[0])
    api = method["Properties"]["RestApiId"]["Ref"]
    permissions = _permissions(resources, function)
    assert {principal for principal, _, _ in permissions} == {"apigateway.amazonaws.com"}
    for _, source, _ in permissions:  # the stage's, and the console's test-invoke-stage
        rendered = _render(source)
        assert rendered.startswith("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:")
        assert f"${{{api}}}/" in rendered and rendered.endswith("/POST/webhook"), rendered


def test_eventbridge_may_invoke_the_failure_recorder_and_reach_its_dead_letter_queue_only_from_the_rule(
        resources: Resources) -> None:
    [(rule, props)] = [(lid, r["Properties"]) for lid, r in _of_type(resources, "AWS::Events::Rule").items()]
    [target] = props["Targets"]
    rule_arn = {"Fn::GetAtt": [rule, "Arn"]}
    assert _permissions(resources, _target(target["Arn"])) == [("events.amazonaws.com", rule_arn, None)]
    queue = _target(target["DeadLetterConfig"]["Arn"])
    allowed = [s for s in _queue_statements(resources, queue) if s["Effect"] == "Allow"]
    assert allowed == [{**allowed[0], "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                        "Resource": {"Fn::GetAtt": [queue, "Arn"]}}]


def test_start_messages_that_keep_failing_move_to_the_dead_letter_queue(resources: Resources) -> None:
    """SQS moves them itself (a redrive policy needs no grant); the dead-letter queue only refuses plain HTTP."""
    mapping = _mapping_of(resources, "AWS::SQS::Queue")
    redrive = resources[_target(mapping["EventSourceArn"])]["Properties"]["RedrivePolicy"]
    dead_letters = _target(redrive["deadLetterTargetArn"])
    assert redrive["maxReceiveCount"] == 3
    assert all(s["Effect"] == "Deny" for s in _queue_statements(resources, dead_letters))  # only the TLS-only deny


def test_cloudwatch_alarms_may_publish_to_the_alarm_topic_only_this_stacks_alarms(resources: Resources) -> None:
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    topics = {a["Properties"]["AlarmActions"][0]["Ref"] for a in alarms.values()}
    assert len(topics) == 1
    topic = topics.pop()
    assert "KmsMasterKeyId" not in resources[topic]["Properties"]  # (an aws/sns key cannot be granted to CloudWatch)
    statements = _topic_statements(resources, topic)
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic}
    # The confused deputy: this account, and exactly the alarms of this stack (each alarm's ARN).
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnEquals": {
        "aws:SourceArn": [{"Fn::GetAtt": [alarm, "Arn"]} for alarm in alarms]}}
    [deny] = [s for s in statements if s["Effect"] == "Deny"]  # and the TLS-only deny stays
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_each_state_machine_may_invoke_exactly_the_functions_its_definition_calls(resources: Resources) -> None:
    for lid, machine in _of_type(resources, "AWS::StepFunctions::StateMachine").items():
        called = {_target(f) for f in _invoked_functions(machine)}
        statements = _role_statements(resources, lid, role_property="RoleArn")
        granted = {_target(r) for s in statements if "lambda:InvokeFunction" in _as_list(s["Action"])
                   for r in _as_list(s["Resource"]) if isinstance(r, dict) and "Fn::GetAtt" in r}
        assert called and granted == called, lid


def test_step_functions_assumes_the_roles_only_for_this_accounts_state_machines(resources: Resources) -> None:
    for lid in _of_type(resources, "AWS::StepFunctions::StateMachine"):
        role = resources[lid]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        [trust] = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "states.amazonaws.com"}
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
        assert _render(trust["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(":stateMachine:*")


def test_the_poller_signals_and_starts_exactly_what_its_definition_names(resources: Resources) -> None:
    """SendTask* are authorised against the state machine that issued the token (the job); the hand-over starts
    the poller itself; the job starts the poller (waitForTaskToken)."""
    machines = _of_type(resources, "AWS::StepFunctions::StateMachine")
    for lid, machine in machines.items():
        used = {t.split(":states:::")[-1].removeprefix("aws-sdk:sfn:").split(".")[0].lower()
                for t, _ in _tasks(machine) if isinstance(t, str) and ":states:::" in t and ":lambda:" not in t}
        granted = {a.split(":")[1].lower() for s in _role_statements(resources, lid, role_property="RoleArn")
                   for a in _as_list(s["Action"]) if a.startswith("states:")}
        assert granted == {u.replace("states:", "") for u in used}, lid


def test_the_event_publisher_reads_only_the_jobs_stream_through_its_mapping(resources: Resources) -> None:
    """Lambda's event source mapping reads the stream with the function's role (no resource policy): that role may
    read this stream and nothing else of the table, and the mapping hands it only job state changes."""
    [table] = _of_type(resources, "AWS::DynamoDB::Table")
    assert resources[table]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    mapping = _mapping_of(resources, "AWS::DynamoDB::Table")
    function, stream = _target(mapping["FunctionName"]), {"Fn::GetAtt": [table, "StreamArn"]}
    assert mapping["EventSourceArn"] == stream and mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and "MaximumRetryAttempts" not in mapping
    assert [json.loads(f["Pattern"])["dynamodb"]["Keys"]["pk"]["S"] for f in mapping["FilterCriteria"]["Filters"]] \
        == [[{"prefix": "JOB#"}], [{"prefix": "REJECTED#"}]]
    statements = _role_statements(resources, function)
    table_access = [s for s in statements if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    assert table_access == [{"Effect": "Allow", "Resource": stream, "Action": [
        "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]}]
    # The mapping is created once the role may read the stream (Lambda checks it then).
    policy = next(lid for lid, r in _of_type(resources, "AWS::IAM::Policy").items()
                  if {"Ref": resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]} in r["Properties"]["Roles"])
    assert policy in resources[function]["DependsOn"]
    assert _permissions(resources, function) == []  # nothing may invoke it but its mapping


def test_the_event_publisher_puts_only_its_own_events_on_the_bus_and_its_expired_records_in_its_queue(
        resources: Resources) -> None:
    mapping = _mapping_of(resources, "AWS::DynamoDB::Table")
    function = _target(mapping["FunctionName"])
    queue = _target(mapping["DestinationConfig"]["OnFailure"]["Destination"])
    statements = {_render(s["Resource"]): s for s in _role_statements(resources, function)
                  if not _as_list(s["Action"])[0].startswith(("dynamodb:", "xray:"))}
    bus = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
    assert set(statements) == {bus, f"${{{queue}.Arn}}"}
    assert statements[bus]["Action"] == "events:PutEvents" and statements[bus]["Condition"] == {"StringEquals": {
        "events:source": "faceswap", "events:detail-type": "FaceSwap Job State Change"}}
    assert statements[f"${{{queue}.Arn}}"]["Action"] == "sqs:SendMessage"  # not CDK's SqsDlq's three actions
    assert all(s["Effect"] == "Deny" for s in _queue_statements(resources, queue))  # only the TLS-only deny


def test_the_events_go_to_the_bus_the_context_names(tmp_path: Path) -> None:
    arn = "arn:aws:events:eu-west-1:111122223333:event-bus/media-events"
    app = build_app(outdir=str(tmp_path), context={**LOCAL_TEST_CONTEXT, "faceswap:event_bus_name": arn,
                                                  "faceswap:face_precheck": False})
    found = app.synth().get_stack_by_name("FaceSwap").template["Resources"]
    [publisher] = [r["Properties"] for r in _of_type(found, "AWS::Lambda::Function").values()
                   if r["Properties"].get("Handler") == "publish_job_events.app.lambda_handler"]
    assert publisher["Environment"]["Variables"]["EVENT_BUS_NAME"] == arn
    puts = [s for r in _of_type(found, "AWS::IAM::Policy").values() for s in r["Properties"]["PolicyDocument"][
        "Statement"] if s["Action"] == "events:PutEvents"]
    assert [s["Resource"] for s in puts] == [arn]


@pytest.mark.parametrize("value", ["", "my bus", "arn:aws:events:eu-west-1:1234:event-bus/x", "arn:aws:sqs:x"])
def test_an_event_bus_neither_a_name_nor_an_arn_stops_the_synth(value: str) -> None:
    with pytest.raises(ConfigError, match="event_bus_name must be an EventBridge bus name or ARN"):
        PipelineConfig.from_context(cdk.App(context={"faceswap:event_bus_name": value}).node)


def test_alarm_mail_goes_to_the_configured_address(tmp_path: Path) -> None:
    app = build_app(outdir=str(tmp_path), context={**LOCAL_TEST_CONTEXT, "faceswap:alarm_email": "ops@example.com",
                                                  "faceswap:face_precheck": False})
    stack = app.synth().get_stack_by_name("FaceSwap")
    found = stack.template["Resources"]
    [subscription] = _of_type(found, "AWS::SNS::Subscription").values()
    topics = {a["Properties"]["AlarmActions"][0]["Ref"] for a in _of_type(found, "AWS::CloudWatch::Alarm").values()}
    assert subscription["Properties"] == {"Protocol": "email", "Endpoint": "ops@example.com",
                                          "TopicArn": {"Ref": topics.pop()}}


# --- reading the template ----------------------------------------------------------------------------------------
def _mapping_of(resources: Resources, source_type: str) -> dict[str, Any]:
    """The one event source mapping that reads a resource of this type (a queue, a table's stream)."""
    [mapping] = [r["Properties"] for r in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
                 if resources[_target(r["Properties"]["EventSourceArn"])]["Type"] == source_type]
    return dict(mapping)


def _of_type(resources: Resources, type_: str) -> Resources:
    return {lid: r for lid, r in resources.items() if r["Type"] == type_}


def _target(value: Any) -> str:
    """The logical id a `Fn::GetAtt` / `Ref` points at."""
    return str(value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value["Ref"])


def _permissions(resources: Resources, function: str) -> list[tuple[str, Any, Any]]:
    """(principal, SourceArn, SourceAccount) of every Lambda permission on the function."""
    return [(p["Principal"], p.get("SourceArn"), p.get("SourceAccount")) for p in
            (r["Properties"] for r in _of_type(resources, "AWS::Lambda::Permission").values())
            if _target(p["FunctionName"]) == function and p["Action"] == "lambda:InvokeFunction"]


def _queue_statements(resources: Resources, queue: str) -> list[dict[str, Any]]:
    return [s for r in _of_type(resources, "AWS::SQS::QueuePolicy").values() if {"Ref": queue} in
            r["Properties"]["Queues"] for s in r["Properties"]["PolicyDocument"]["Statement"]]


def _topic_statements(resources: Resources, topic: str) -> list[dict[str, Any]]:
    return [s for r in _of_type(resources, "AWS::SNS::TopicPolicy").values() if {"Ref": topic} in
            r["Properties"]["Topics"] for s in r["Properties"]["PolicyDocument"]["Statement"]]


def _role_statements(resources: Resources, principal: str, role_property: str = "Role") -> list[dict[str, Any]]:
    role = resources[principal]["Properties"][role_property]["Fn::GetAtt"][0]
    return [s for r in resources.values() if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in
            r["Properties"]["Roles"] for s in r["Properties"]["PolicyDocument"]["Statement"]]


def _tasks(machine: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each Task state's Resource and Parameters, with the intrinsics they were built from (a function's ARN...)."""
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    placeholders = {f"@@{i}@@": part for i, part in enumerate(parts) if not isinstance(part, str)}
    text = "".join(part if isinstance(part, str) else f"@@{i}@@" for i, part in enumerate(parts))
    for state in _states(json.loads(text)):
        if state.get("Type") == "Task":
            parameters = {k: placeholders.get(v, v) if isinstance(v, str) else v
                          for k, v in state.get("Parameters", {}).items()}
            yield placeholders.get(state["Resource"], state["Resource"]), parameters


def _invoked_functions(machine: dict[str, Any]) -> Iterator[Any]:
    """The functions a state machine invokes: as a Task's Resource, or lambda:invoke's FunctionName."""
    for resource, parameters in _tasks(machine):
        if isinstance(resource, dict):
            yield resource
        elif resource.endswith(":states:::lambda:invoke") or ":states:::lambda:invoke." in resource:
            yield parameters["FunctionName"]


def _states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in definition.get("States", {}).values():
        yield state
        for nested in state.get("Branches", []) + ([state["ItemProcessor"]] if "ItemProcessor" in state else []):
            yield from _states(nested)


def _referenced(value: Any, kind: str) -> list[Any]:
    if isinstance(value, dict):
        return [value] if kind in value else [x for v in value.values() for x in _referenced(v, kind)]
    if isinstance(value, list):
        return [x for v in value for x in _referenced(v, kind)]
    return []


def _render(value: Any) -> str:
    """A string with its intrinsics as ${...} (Fn::Join flattened), to compare ARN shapes."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(p) for p in parts)
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return re.sub(r"\s", "", json.dumps(value))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
