"""The CDK-synthesized template deploys into moto with every resource the app declares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.aws import cfn_shims
from local.aws.deploy import DeploymentError, deploy_stack, zip_directory
from local.aws.stack import LocalStack


def test_outputs_and_resources_resolve(aws: LocalStack) -> None:
    assert {"BucketName", "TableName", "StateMachineArn", "ApiUrl", "DeadLetterQueueUrl"} <= set(aws.outputs)
    machines = aws.client("stepfunctions").list_state_machines()["stateMachines"]
    assert aws.outputs["StateMachineArn"] in [m["stateMachineArn"] for m in machines]
    assert aws.function_name("Probe").startswith("HarnessTest-Probe")
    with pytest.raises(KeyError):
        aws.deployed.function_name("NoSuchFunction")


def test_generated_secret_follows_the_template(aws: LocalStack) -> None:
    arn = aws.deployed.resources[aws.deployed.logical_id("ApiKey", "AWS::SecretsManager::Secret")]
    secret = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    assert secret["user"] == "demo"
    assert len(secret["key"]) == 32 and secret["key"].isalnum()


def test_table_has_its_ttl(aws: LocalStack) -> None:
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=aws.outputs["TableName"])
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_bucket_notification_was_applied_by_the_custom_resource(aws: LocalStack) -> None:
    config = aws.client("s3").get_bucket_notification_configuration(Bucket=aws.outputs["BucketName"])
    (function,) = config["LambdaFunctionConfigurations"]
    assert function["LambdaFunctionArn"].endswith(aws.function_name("Ingest"))
    assert [(r["Name"].lower(), r["Value"]) for r in function["Filter"]["Key"]["FilterRules"]] == [("prefix", "in/")]
    answered = {r["LogicalResourceId"]: r["Status"] for r in cfn_shims.custom_resource_responses()}
    assert set(answered.values()) == {"SUCCESS"} and len(answered) == 2  # Python + Node.js providers


def test_supporting_resources_exist(aws: LocalStack) -> None:
    alarms = aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert [a["MetricName"] for a in alarms] == ["Errors"]
    subscriptions = aws.client("sns").list_subscriptions()["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions] == ["ops@example.com"]
    invoke_config = aws.client("lambda").get_function_event_invoke_config(FunctionName=aws.function_name("Ingest"))
    assert invoke_config["MaximumRetryAttempts"] == 2
    rest_api = aws.deployed.resources[aws.api.rest_api]
    validators = aws.client("apigateway").get_request_validators(restApiId=rest_api)["items"]
    assert [v["validateRequestParameters"] for v in validators] == [True]
    rules = aws.client("events").list_rules()["Rules"]
    assert any(json.loads(r.get("EventPattern", "{}")).get("source") == ["aws.states"] for r in rules)


def test_unsupported_types_fail_fast(tmp_path: Path) -> None:
    template = {"Resources": {"Thing": {"Type": "AWS::Made::Up", "Properties": {}},
                              "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}}}}
    assert cfn_shims.unsupported_types(template) == ["AWS::Made::Up"]
    (tmp_path / "Broken.template.json").write_text(json.dumps(template))
    with pytest.raises(DeploymentError, match="AWS::Made::Up"):
        deploy_stack(tmp_path, "Broken")


def test_directories_zip_deterministically(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("b = 1\n")
    (tmp_path / "a.py").write_text("a = 1\n")
    first = zip_directory(tmp_path)
    (tmp_path / "a.py").touch()  # a newer mtime must not change the bytes
    assert zip_directory(tmp_path) == first
