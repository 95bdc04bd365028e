"""The synthesized template: what is in it, what must never be in it, and that linters accept it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Annotations, Match, Template

from faceswap.layout import Env
from tests.conftest import Synthesized

SECRET_LIKE = re.compile(r"whsec_[A-Za-z0-9+/=]{8,}|emulator-key")


def _template(s: Synthesized) -> dict[str, Any]:
    return json.loads(s.template_path.read_text())


def test_template_has_the_architecture(synthesized: Synthesized) -> None:
    t = Template.from_stack(synthesized.stack)
    t.resource_count_is("AWS::StepFunctions::StateMachine", 2)  # the job and its poller
    t.resource_count_is("AWS::ApiGateway::RestApi", 1)
    t.resource_count_is("AWS::DynamoDB::Table", 1)  # jobs, and the TASK items where tokens meet webhooks
    t.resource_count_is("AWS::SecretsManager::Secret", 2)
    t.resource_count_is("AWS::Lambda::Function", 9 + 1)  # ours (with the face detector) + CDK's notification handler
    t.has_resource_properties("AWS::StepFunctions::StateMachine", {"StateMachineType": "STANDARD"})
    t.has_resource_properties("AWS::StepFunctions::StateMachine", {"StateMachineType": "EXPRESS"})
    t.has_resource_properties("AWS::ApiGateway::Method",
                              {"HttpMethod": "POST", "RequestValidatorId": Match.any_value()})
    throttled = Match.object_like({"ThrottlingRateLimit": Match.any_value(), "ThrottlingBurstLimit": Match.any_value()})
    t.has_resource_properties("AWS::ApiGateway::Stage", {"MethodSettings": Match.array_with([throttled])})
    t.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like(
        {"detail": Match.object_like({"status": ["FAILED", "TIMED_OUT", "ABORTED"]})})})
    # Uploads reach the start function through its queue: Lambda polls it, reports partial batch failures and
    # never runs more starts at once than the vendor may run tasks (faceswap:max_tasks_in_flight, at least 2).
    t.has_resource_properties("AWS::Lambda::EventSourceMapping", {
        "BatchSize": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": Match.any_value()}})
    t.has_resource_properties("AWS::SQS::Queue", {"RedrivePolicy": Match.object_like({"maxReceiveCount": 3})})


def test_buckets_are_private_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    t = Template.from_stack(synthesized.stack)
    for bucket in t.find_resources("AWS::S3::Bucket").values():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    policies = json.dumps(t.find_resources("AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policies


def test_state_machines_read_as_the_architecture(synthesized: Synthesized) -> None:
    job, poller = _definition(synthesized, "STANDARD"), _definition(synthesized, "EXPRESS")
    assert job["StartAt"] == "Wait for the vendor task"
    wait = job["States"]["Wait for the vendor task"]
    assert wait["Resource"].endswith("states:startExecution.waitForTaskToken") and "TimeoutSeconds" in wait
    assert wait["Parameters"]["Input"]["token.$"] == "$$.Task.Token"
    assert [c["ErrorEquals"] for c in wait["Catch"]] == [["States.ALL"]]
    assert job["TimeoutSeconds"] == 3600
    assert set(job["States"]) == {"Wait for the vendor task", "Finalize", "Record failure", "Job failed"}
    assert job["States"]["Finalize"]["End"] is True  # two transitions for a job that succeeds
    assert set(job["States"]) & set(poller["States"]) == set()  # polling costs Express seconds, not transitions
    states = poller["States"]
    assert poller["StartAt"] == "Store token for the webhook"
    assert states["Wait polling_interval"]["SecondsPath"] == "$.poll.interval_seconds"
    assert states["Check task status"]["Next"] == "Task finished?"
    for name in ("Store token for the webhook", "Check task status"):  # refused AWS calls are retried, not fatal
        assert any("ClientError" in r["ErrorEquals"] for r in states[name]["Retry"]), name
    assert states["Signal the job"]["Resource"].endswith("aws-sdk:sfn:sendTaskSuccess")
    assert states["Hand over to a fresh poller"]["Resource"].endswith("aws-sdk:sfn:startExecution")
    assert {"Ended by the webhook", "Ended by polling", "The webhook was first", "Handed over"} <= set(states)


def test_no_secret_values_in_template_or_environment(synthesized: Synthesized) -> None:
    text = synthesized.template_path.read_text()
    assert not SECRET_LIKE.search(text)
    for fn in Template.from_stack(synthesized.stack).find_resources("AWS::Lambda::Function").values():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert not any("KEY" in k and "ARN" not in k for k in env), env.keys()


def test_every_environment_variable_set_on_a_function_is_a_shared_name(synthesized: Synthesized) -> None:
    """infra writes and the functions read the same names: faceswap.layout.Env spells each once."""
    shared = {value for name, value in vars(Env).items() if not name.startswith("_")}
    ours = [fn for fn in Template.from_stack(synthesized.stack).find_resources("AWS::Lambda::Function").values()
            if str(fn["Properties"].get("Handler", "")).endswith(".app.lambda_handler")]
    names = {name for fn in ours for name in fn["Properties"].get("Environment", {}).get("Variables", {})}
    assert len(ours) == 9 and names and names <= shared, names - shared


def test_task_token_calls_are_scoped_to_the_state_machine(synthesized: Synthesized) -> None:
    policies = Template.from_stack(synthesized.stack).find_resources("AWS::IAM::Policy")
    token_statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
                        if "states:SendTaskSuccess" in _as_list(s["Action"])]
    assert len(token_statements) == 3  # the webhook, the token store and the poller
    for statement in token_statements:
        assert "stateMachine" in json.dumps(statement["Resource"])


def test_cdk_nag_has_no_unsuppressed_errors(synthesized: Synthesized) -> None:
    errors = Annotations.from_stack(synthesized.stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [f"{e.id}: {str(e.entry.data)[:120]}" for e in errors] == []


def test_cfn_lint_reports_no_errors(synthesized: Synthesized) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is installed with the dev requirements"
    result = subprocess.run([cfn_lint, "--ignore-checks", "W3005", "--", str(synthesized.template_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode in (0, 4), result.stdout + result.stderr  # 4: warnings only


def _definition(s: Synthesized, kind: str) -> dict[str, Any]:
    sm = next(r for r in _template(s)["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
              and r["Properties"]["StateMachineType"] == kind)
    parts = sm["Properties"]["DefinitionString"]["Fn::Join"][1]
    # Tokens (Refs, GetAtts) only occur inside string literals of the definition.
    return dict(json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts)))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
