"""The stack outputs the CLI, `faceswap doctor` and the acceptance tests find a pipeline by (infra/outputs.py):
the same names in FaceSwapStack and, prefixed, in a stack of your own, which the CLI reads back unprefixed."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template

from examples.byo_app.app import build
from faceswap_cli.stack import stack_outputs
from tests.conftest import Synthesized

OUTPUTS = {"BucketName", "StateMachineArn", "PollerStateMachineArn", "WebhookUrl", "JobsTableName",
           "ApiKeySecretArn", "WebhookSecretArn", "AlarmTopicArn", "VendorApiUrl", "VideosPrefix", "FacesPrefix",
           "JobsPrefix", "ResultsPrefix"}


def test_the_stack_outputs_what_the_cli_and_doctor_read(synthesized: Synthesized) -> None:
    outputs = Template.from_stack(synthesized.stack).find_outputs("*")
    assert set(outputs) >= OUTPUTS  # (and API Gateway's own endpoint output)
    assert outputs["AlarmTopicArn"]["Value"]["Ref"].startswith("PipelineMonitoringAlarms")
    assert outputs["VendorApiUrl"]["Value"] == {"Ref": "VendorBaseUrl"}  # what the functions call
    assert outputs["JobsPrefix"]["Value"] == "jobs/"


def test_a_stack_of_your_own_outputs_them_prefixed_and_the_cli_reads_them_back(tmp_path: Path) -> None:
    outputs = Template.from_stack(build(cdk.App(outdir=str(tmp_path)))).find_outputs("*")
    assert {f"FaceSwap{name}" for name in OUTPUTS} <= set(outputs)
    described = {"Outputs": [{"OutputKey": key, "OutputValue": f"value of {key}"} for key in outputs]}
    read = stack_outputs(described)
    assert {name: read[name] for name in OUTPUTS} == {name: f"value of FaceSwap{name}" for name in OUTPUTS}
