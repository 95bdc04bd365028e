"""FaceSwapPipeline is a reusable L3 construct: dropped into someone else's app and stack (examples/byo_app),
it brings the whole architecture, takes its configuration, and names nothing after our own stack."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Match, Template

from examples.byo_app.app import build


def test_the_pipeline_construct_drops_into_another_app(tmp_path: Path) -> None:
    stack = build(cdk.App(outdir=str(tmp_path)))
    t = Template.from_stack(stack)  # the one synth of this module

    for kind, count in (("AWS::StepFunctions::StateMachine", 2), ("AWS::ApiGateway::RestApi", 1),
                        ("AWS::DynamoDB::Table", 1), ("AWS::SecretsManager::Secret", 2),
                        ("AWS::Events::Rule", 1), ("Custom::S3BucketNotifications", 1)):
        t.resource_count_is(kind, count)
    assert len(t.find_resources("AWS::CloudWatch::Alarm")) >= 5
    t.has_resource_properties("AWS::StepFunctions::StateMachine", {"StateMachineName": "MyMediaApp-FaceSwap-Job"})
    t.has_resource_properties("AWS::StepFunctions::StateMachine",
                              {"StateMachineName": "MyMediaApp-FaceSwap-Poller"})

    # The app's own configuration reaches the poller and the bucket's lifecycle.
    machines = json.dumps(t.find_resources("AWS::StepFunctions::StateMachine"))
    assert "within 360 polls" in machines
    t.has_resource_properties("AWS::S3::Bucket", {"LifecycleConfiguration": {"Rules": Match.array_with([
        Match.object_like({"Id": "expire-results", "ExpirationInDays": 7})])}})

    # The app can wire its own resources to the construct's, and the CLI finds the outputs by suffix.
    t.has_resource_properties("AWS::IAM::Policy", {"Roles": [{"Ref": Match.string_like_regexp("BackendRole")}]})
    assert {"FaceSwapBucketName", "FaceSwapStateMachineArn", "FaceSwapJobsTableName",
            "FaceSwapWebhookUrl"} <= set(t.find_outputs("*"))
    assert "VendorBaseUrl" not in t.find_parameters("*")  # FaceSwapStack's own parameter stays in FaceSwapStack
