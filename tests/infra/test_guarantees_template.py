"""Guarantees that live in the template: alarms on every quiet failure, least-privilege IAM, cdk-nag suppressions
narrowed to the resources they concern, webhook throttling. (The run-time guarantees are in tests/e2e.)"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import Synthesized

Resources = dict[str, dict[str, Any]]
# Our functions by logical-id prefix (CDK's own bucket-notification handler is not ours): <construct><function>.
FUNCTIONS = ("PipelineIngestStartJob", "PipelineIngestDetectFaces", "PipelineJobWorkflowCheckStatus",
             "PipelineJobWorkflowStoreToken", "PipelineJobWorkflowFinalize", "PipelineJobWorkflowRecordFailure",
             "PipelineJobWorkflowExecutionFailed", "PipelineWebhookIngressWebhook")
JOB, POLLER = "PipelineJobWorkflowJob", "PipelineJobWorkflowPoller"  # the state machines


@pytest.fixture(scope="module")
def resources(synthesized: Synthesized) -> Resources:
    template = json.loads(synthesized.template_path.read_text())
    assert "cdk_nag" not in json.dumps(template.get("Metadata", {})), "no stack-wide cdk-nag suppressions"
    return dict(template["Resources"])


# --- nothing fails silently: alarms -------------------------------------------------------------------------------
def test_alarms_watch_failed_executions_webhook_errors_lambda_errors_and_dead_letters(resources: Resources) -> None:
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    watched = {(p.get("Namespace"), p.get("MetricName"), _dimension(p)) for p in alarms.values()}
    for state_machine in _of_type(resources, "AWS::StepFunctions::StateMachine"):  # the job and its poller
        assert ("AWS/States", "ExecutionsFailed", state_machine) in watched
        assert ("AWS/States", "ExecutionsTimedOut", state_machine) in watched
    api_name = resources[_one(resources, "AWS::ApiGateway::RestApi")]["Properties"]["Name"]
    assert ("AWS/ApiGateway", "5XXError", api_name) in watched
    for prefix in FUNCTIONS:
        assert ("AWS/Lambda", "Errors", _logical_id(resources, prefix, "AWS::Lambda::Function")) in watched, prefix
    assert ("FaceSwap", "FacePrecheck_unavailable", "start_job") in watched  # the pre-check's fail-open path
    for queue in ("PipelineIngestStartJobDeadLetters", "PipelineJobWorkflowExecutionFailedDeadLetters"):
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                _logical_id(resources, queue, "AWS::SQS::Queue")) in watched, queue
    rate = next(p for p in alarms.values() if "Metrics" in p)  # the webhook 4xx rate is metric math
    names = {m.get("MetricStat", {}).get("Metric", {}).get("MetricName") for m in rate["Metrics"]}
    assert names == {"4XXError", "Count", None} and rate["Threshold"] == 10
    topic = _one(resources, "AWS::SNS::Topic")
    assert all(p["AlarmActions"] == [{"Ref": topic}] for p in alarms.values())


def test_failed_executions_rule_and_start_queue_lead_to_dead_letter_queues(resources: Resources) -> None:
    rule = next(iter(_of_type(resources, "AWS::Events::Rule").values()))
    target = rule["Targets"][0]
    assert rule["EventPattern"]["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    assert target["Arn"] == {"Fn::GetAtt": [_logical_id(resources, "PipelineJobWorkflowExecutionFailed",
                                                         "AWS::Lambda::Function"), "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": [_logical_id(resources, "PipelineJobWorkflowExecutionFailedDeadLetters", "AWS::SQS::Queue"),
                       "Arn"]}
    start_queue = resources[_logical_id(resources, "PipelineIngestStartQueue", "AWS::SQS::Queue")]["Properties"]
    assert start_queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [_logical_id(resources, "PipelineIngestStartJobDeadLetters", "AWS::SQS::Queue"), "Arn"]}


# --- security posture: least privilege ----------------------------------------------------------------------------
def test_only_xray_and_log_delivery_are_granted_on_every_resource(resources: Resources) -> None:
    state_machine_roles = {_sfn_role_of(resources, JOB), _sfn_role_of(resources, POLLER)}
    for role, statements in _statements_by_role(resources).items():
        for statement in statements:
            if statement["Resource"] != "*" and "*" not in _as_list(statement["Resource"]):
                continue
            allowed = {"xray"} | ({"logs"} if role in state_machine_roles else set())
            assert {a.split(":")[0] for a in _as_list(statement["Action"])} <= allowed, (role, statement)


@pytest.mark.parametrize(("function", "reads", "writes"), [
    ("PipelineIngestStartJob", {"videos/*", "faces/*", "jobs/*"}, {"results/*"}),
    ("PipelineJobWorkflowFinalize", set(), {"results/*"}),
    ("PipelineJobWorkflowRecordFailure", set(), {"results/*"}),
    ("PipelineJobWorkflowExecutionFailed", set(), {"results/*"}),
    ("PipelineJobWorkflowCheckStatus", set(), set()),
    ("PipelineJobWorkflowStoreToken", set(), set()),
    ("PipelineWebhookIngressWebhook", set(), set()),
    ("PipelineIngestDetectFaces", {"videos/*", "faces/*"}, set()),
])
def test_s3_access_is_scoped_to_key_prefixes(resources: Resources, function: str, reads: set[str],
                                            writes: set[str]) -> None:
    bucket = _logical_id(resources, "PipelineStorageMedia", "AWS::S3::Bucket")
    statements = _statements_by_role(resources)[_role_of(resources, function)]
    read: set[str] = set()
    written: set[str] = set()
    for statement in statements:
        actions = _as_list(statement["Action"])
        if not any(a.startswith("s3:") for a in actions):
            continue
        objects = {r.split("/", 1)[1] for r in map(_render, _as_list(statement["Resource"])) if "/" in r}
        assert all(r in (f"<{bucket}.Arn>", *(f"<{bucket}.Arn>/{o}" for o in objects))
                   for r in map(_render, _as_list(statement["Resource"]))), statement
        assert not any(a in ("s3:*", "s3:DeleteObject*") for a in actions), statement
        (written if any(a.startswith("s3:PutObject") for a in actions) else read).update(objects)
    assert (read, written) == (reads, writes)


@pytest.mark.parametrize(("resource", "type_", "readers"), [
    ("PipelineStorageWebhookSecrets", "AWS::SecretsManager::Secret", {"PipelineWebhookIngressWebhook"}),
    ("PipelineStorageVendorApiKey", "AWS::SecretsManager::Secret",
     {"PipelineIngestStartJob", "PipelineJobWorkflowCheckStatus", "PipelineJobWorkflowFinalize"}),
])
def test_secrets_are_read_only_by_who_needs_them(
        resources: Resources, resource: str, type_: str, readers: set[str]) -> None:
    logical_id = _logical_id(resources, resource, type_)
    granted = {role for role, statements in _statements_by_role(resources).items()
               if any(logical_id in json.dumps(s["Resource"]) for s in statements)}
    assert granted == {_role_of(resources, fn) for fn in readers}


@pytest.mark.parametrize(("function", "items"), [
    ("PipelineJobWorkflowStoreToken", {("dynamodb:UpdateItem",): ["TASK#*"]}),
    ("PipelineWebhookIngressWebhook", {("dynamodb:UpdateItem",): ["TASK#*"]}),  # internet-facing
    ("PipelineJobWorkflowFinalize", {("dynamodb:GetItem", "dynamodb:UpdateItem"): ["JOB#*", "ADMISSION*"]}),
    ("PipelineJobWorkflowRecordFailure", {("dynamodb:GetItem", "dynamodb:UpdateItem"): ["JOB#*", "ADMISSION*"]}),
    ("PipelineJobWorkflowExecutionFailed", {("dynamodb:GetItem", "dynamodb:UpdateItem"): ["JOB#*", "ADMISSION*"]}),
    ("PipelineIngestStartJob", {("dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                                 "dynamodb:UpdateItem"): ["JOB#*", "TASK#*", "ADMISSION*", "REJECTED#*"]}),
    ("PipelineJobWorkflowCheckStatus", {}),
    ("PipelineIngestDetectFaces", {}),
])
def test_table_access_is_item_actions_on_key_prefixes(resources: Resources, function: str,
                                                      items: dict[tuple[str, ...], list[str]]) -> None:
    table = _logical_id(resources, "PipelineStorageJobs", "AWS::DynamoDB::Table")
    statements = [s for s in _statements_by_role(resources)[_role_of(resources, function)]
                  if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    assert all(s["Resource"] == {"Fn::GetAtt": [table, "Arn"]} for s in statements), statements
    assert {tuple(sorted(_as_list(s["Action"]))): s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            for s in statements} == items


@pytest.mark.parametrize(("function", "actions"), [
    ("PipelineJobWorkflowFinalize", ["s3:AbortMultipartUpload", "s3:PutObject"]),  # a multipart upload that failed
    ("PipelineJobWorkflowRecordFailure", ["s3:PutObject"]),
    ("PipelineJobWorkflowExecutionFailed", ["s3:PutObject"]),
])
def test_result_writers_may_only_put_objects(resources: Resources, function: str, actions: list[str]) -> None:
    [statement] = [s for s in _statements_by_role(resources)[_role_of(resources, function)]
                   if any(a.startswith("s3:") for a in _as_list(s["Action"]))]
    assert sorted(_as_list(statement["Action"])) == actions  # no tagging, legal hold or retention


def test_secrets_grant_their_value_and_nothing_else(resources: Resources) -> None:
    for role, statements in _statements_by_role(resources).items():
        for statement in statements:
            actions = [a for a in _as_list(statement["Action"]) if a.startswith("secretsmanager:")]
            assert actions in ([], ["secretsmanager:GetSecretValue"]), (role, statement)


def test_the_face_detector_may_only_get_the_inputs(resources: Resources) -> None:
    bucket = _logical_id(resources, "PipelineStorageMedia", "AWS::S3::Bucket")
    (statement,) = [s for s in _statements_by_role(resources)[_role_of(resources, "PipelineIngestDetectFaces")]
                    if any(a.startswith("s3:") for a in _as_list(s["Action"]))]
    assert statement["Action"] == "s3:GetObject"  # no bucket-wide List*/GetBucket* as grant_read would give
    assert sorted(map(_render, statement["Resource"])) == [f"<{bucket}.Arn>/faces/*", f"<{bucket}.Arn>/videos/*"]


def test_only_the_start_function_may_invoke_the_face_detector_and_only_it(resources: Resources) -> None:
    detector = _logical_id(resources, "PipelineIngestDetectFaces", "AWS::Lambda::Function")
    start_role = _role_of(resources, "PipelineIngestStartJob")
    callers = {role for role, statements in _statements_by_role(resources).items()
               if any(detector in json.dumps(s["Resource"]) for s in statements)}
    assert callers == {start_role}
    (statement,) = [s for s in _statements_by_role(resources)[start_role]
                    if any(a.startswith("lambda:") for a in _as_list(s["Action"]))]
    assert (statement["Action"], statement["Resource"]) == ("lambda:InvokeFunction", {"Fn::GetAtt": [detector, "Arn"]})


def test_task_token_calls_name_exactly_the_job_state_machine(resources: Resources) -> None:
    name = resources[_job(resources)]["Properties"]["StateMachineName"]
    token_grants = {role: s for role, statements in _statements_by_role(resources).items() for s in statements
                    if any(a.startswith("states:SendTask") for a in _as_list(s["Action"]))}
    assert {role: sorted(_as_list(s["Action"])) for role, s in token_grants.items()} == {
        _role_of(resources, "PipelineWebhookIngressWebhook"): ["states:SendTaskSuccess"],
        _role_of(resources, "PipelineJobWorkflowStoreToken"): ["states:SendTaskSuccess"],
        _sfn_role_of(resources, POLLER): ["states:SendTaskFailure", "states:SendTaskHeartbeat",
                                                    "states:SendTaskSuccess"]}
    for statement in token_grants.values():
        assert _render(statement["Resource"]).endswith(f":stateMachine:{name}"), statement


def test_the_job_may_start_only_its_poller_and_the_poller_only_itself(resources: Resources) -> None:
    starts = {role: s["Resource"] for role, statements in _statements_by_role(resources).items() for s in statements
              if "states:StartExecution" in _as_list(s["Action"])}
    poller_name = resources[_logical_id(resources, POLLER, "AWS::StepFunctions::StateMachine")][
        "Properties"]["StateMachineName"]
    assert starts[_sfn_role_of(resources, JOB)] == {
        "Ref": _logical_id(resources, POLLER, "AWS::StepFunctions::StateMachine")}
    assert _render(starts[_sfn_role_of(resources, POLLER)]).endswith(f":stateMachine:{poller_name}")
    assert starts[_role_of(resources, "PipelineIngestStartJob")] == {"Ref": _job(resources)}


def test_state_machines_log_to_vended_log_groups_named_after_them(resources: Resources) -> None:
    """Under /aws/vendedlogs/, CloudWatch Logs' account-wide resource policy (5,120 characters) gets no entry per
    group; the names are fixed, so the groups go with the stack (a retained one would block a redeployment)."""
    for prefix in (JOB, POLLER):
        machine = resources[_logical_id(resources, prefix, "AWS::StepFunctions::StateMachine")]["Properties"]
        [destination] = machine["LoggingConfiguration"]["Destinations"]
        group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        assert resources[group]["Properties"]["LogGroupName"] == f"/aws/vendedlogs/states/{machine['StateMachineName']}"
        assert resources[group]["DeletionPolicy"] == "Delete"


def test_webhook_stage_is_throttled(resources: Resources) -> None:
    stage = resources[_one(resources, "AWS::ApiGateway::Stage")]["Properties"]
    assert {"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 50,
            "ThrottlingBurstLimit": 100}.items() <= stage["MethodSettings"][0].items()


# --- security posture: cdk-nag suppressions are narrow ------------------------------------------------------------
def test_nag_suppressions_are_on_single_resources_with_reasons(resources: Resources) -> None:
    suppressed = _nag_suppressions(resources)
    assert suppressed, "the reviewed findings are suppressed per resource"
    for logical_id, rules in suppressed.items():
        for rule in rules:
            assert len(rule.get("reason", "")) >= 30, (logical_id, rule)
            if rule["id"] in ("AwsSolutions-IAM4", "AwsSolutions-IAM5"):
                assert rule.get("applies_to"), f"{logical_id}: {rule['id']} must name what it accepts"


def test_the_s1_suppression_is_only_on_the_access_log_bucket(resources: Resources) -> None:
    media = resources[_logical_id(resources, "PipelineStorageMedia", "AWS::S3::Bucket")]["Properties"]
    access_logs = media["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    s1 = [lid for lid, rules in _nag_suppressions(resources).items()
          if any(r["id"] == "AwsSolutions-S1" for r in rules)]
    assert s1 == [access_logs]


def test_iam5_accepts_only_xray_and_object_prefix_wildcards(resources: Resources) -> None:
    for logical_id, rules in _nag_suppressions(resources).items():
        for rule in (r for r in rules if r["id"] == "AwsSolutions-IAM5"):
            for accepted in rule["applies_to"]:
                if isinstance(accepted, dict):  # regex: object-key prefixes or function versions only
                    assert accepted["regex"].endswith((r"\/\*$/g", r":\*$/g")), (logical_id, accepted)
                else:
                    assert accepted == "Resource::*" or accepted.startswith("Action::s3:"), (logical_id, accepted)


# --- helpers -------------------------------------------------------------------------------------------------------
def _of_type(resources: Resources, type_: str) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties", {}) for lid, r in resources.items() if r["Type"] == type_}


def _job(resources: Resources) -> str:
    return _logical_id(resources, JOB, "AWS::StepFunctions::StateMachine")


def _sfn_role_of(resources: Resources, prefix: str) -> str:
    """The role of a state machine (CDK names it `<prefix>Role<hex>`)."""
    role = resources[_logical_id(resources, prefix, "AWS::StepFunctions::StateMachine")]["Properties"]["RoleArn"]
    return str(role["Fn::GetAtt"][0])


def _one(resources: Resources, type_: str) -> str:
    (logical_id,) = _of_type(resources, type_)
    return logical_id


def _logical_id(resources: Resources, prefix: str, type_: str) -> str:
    """The resource CDK named `<prefix><8 hex digits>`."""
    matches = [lid for lid in _of_type(resources, type_) if re.fullmatch(f"{prefix}[0-9A-F]{{8}}", lid)]
    assert len(matches) == 1, (prefix, matches)
    return matches[0]


def _role_of(resources: Resources, function_prefix: str) -> str:
    fn = resources[_logical_id(resources, function_prefix, "AWS::Lambda::Function")]
    return str(fn["Properties"]["Role"]["Fn::GetAtt"][0])


def _statements_by_role(resources: Resources) -> dict[str, list[dict[str, Any]]]:
    by_role: dict[str, list[dict[str, Any]]] = {}
    for policy in _of_type(resources, "AWS::IAM::Policy").values():
        for role in policy["Roles"]:
            by_role.setdefault(role["Ref"], []).extend(policy["PolicyDocument"]["Statement"])
    return by_role


def _dimension(props: dict[str, Any]) -> str | None:
    """The logical id (or literal name) the alarm's metric is about."""
    value = (props.get("Dimensions") or [{}])[0].get("Value")
    if isinstance(value, dict):
        return str(value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0])
    return value


def _nag_suppressions(resources: Resources) -> dict[str, list[dict[str, Any]]]:
    return {lid: r["Metadata"]["cdk_nag"]["rules_to_suppress"] for lid, r in resources.items()
            if "cdk_nag" in r.get("Metadata", {})}


def _render(value: Any) -> str:
    """A policy resource as text: GetAtt → <Id.Attr>, Ref → <Id>, Join concatenated."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return f"<{value['Fn::GetAtt'][0]}.{value['Fn::GetAtt'][1]}>"
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(p) for p in parts)
    return json.dumps(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
