"""Deploy a CDK-synthesized stack (`cdk.out`) into moto's CloudFormation, the way `cdk deploy` would:
publish the file assets to the bootstrap bucket, satisfy the bootstrap version check, create the stack and
wait for it, failing with the reasons CloudFormation recorded.

Run `cfn_shims.install()` first; otherwise the types moto cannot model are reported up front.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.aws.call_log import record_deployment
from local.aws.cfn_shims import custom_resource_responses, unsupported_types
from local.aws.server import ACCOUNT_ID, REGION, boto_client

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same directory always zips to the same bytes
# Fast deflate: the face detector's asset (OpenCV, ~210 MB) is zipped at every local deploy, 8 s at the default
# level and 3 s at this one, for a zip ~10 % larger that only ever lives in moto's memory.
_ZIP_LEVEL = 1


class DeploymentError(RuntimeError):
    pass


@dataclass
class DeployedStack:
    name: str
    outputs: dict[str, str]
    resources: dict[str, str]  # logical id -> physical id
    resource_types: dict[str, str]  # logical id -> AWS::Service::Type
    template: dict[str, Any] = field(repr=False)

    def logical_id(self, prefix: str, resource_type: str) -> str:
        """The one resource of `resource_type` whose logical id starts with (else contains) `prefix`."""
        candidates = [lid for lid, t in self.resource_types.items() if t == resource_type]
        matches = [lid for lid in candidates if lid.startswith(prefix)] or [lid for lid in candidates if prefix in lid]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} {resource_type} resources match {prefix!r}: {sorted(matches)}")
        return matches[0]

    def function_name(self, logical_id_prefix: str) -> str:
        return self.resources[self.logical_id(logical_id_prefix, "AWS::Lambda::Function")]


def deploy_stack(cdk_out: Path, stack_name: str, *, endpoint_url: str | None = None,
                 parameters: Mapping[str, str] | None = None, region: str = REGION,
                 timeout_s: float = 120.0) -> DeployedStack:
    cdk_out = Path(cdk_out)
    template = json.loads((cdk_out / f"{stack_name}.template.json").read_text())
    missing = unsupported_types(template)
    if missing:
        raise DeploymentError(f"moto has no CloudFormation model for {missing} (install cfn_shims or add a shim)")

    def client(service: str) -> Any:
        return boto_client(service, region_name=region, endpoint_url=endpoint_url)

    publish_assets(cdk_out, stack_name, client("s3"), region)
    _satisfy_bootstrap_check(template, client("ssm"))
    cfn = client("cloudformation")
    _create_stack(cfn, stack_name, template, parameters or {})
    _wait_for_completion(cfn, stack_name, timeout_s)
    deployed = _describe(cfn, stack_name, template)
    record_deployment(stack_name, cdk_out / f"{stack_name}.template.json", deployed.resources)  # if recording
    return deployed


def publish_assets(cdk_out: Path, stack_name: str, s3: Any, region: str = REGION) -> None:
    """Upload every file asset of `<stack>.assets.json` to its bucket and key (directories are zipped)."""
    manifest_path = cdk_out / f"{stack_name}.assets.json"
    if not manifest_path.exists():
        return
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("dockerImages"):
        raise DeploymentError("Docker image assets cannot be published locally")
    for asset in manifest.get("files", {}).values():
        source = cdk_out / asset["source"]["path"]
        body = zip_directory(source) if source.is_dir() else source.read_bytes()
        for destination in asset["destinations"].values():
            bucket = _substitute(destination["bucketName"], region)
            _ensure_bucket(s3, bucket)
            s3.put_object(Bucket=bucket, Key=_substitute(destination["objectKey"], region), Body=body)


def zip_directory(directory: Path) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=_ZIP_EPOCH)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=_ZIP_LEVEL)
    return buffer.getvalue()


def _substitute(value: str, region: str) -> str:
    return (value.replace("${AWS::AccountId}", ACCOUNT_ID).replace("${AWS::Region}", region)
            .replace("${AWS::Partition}", "aws"))


def _ensure_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


def _satisfy_bootstrap_check(template: dict[str, Any], ssm: Any) -> None:
    # CDK's BootstrapVersion parameter reads an SSM parameter that `cdk bootstrap` would have written.
    parameter = template.get("Parameters", {}).get("BootstrapVersion")
    if parameter and parameter.get("Type", "").startswith("AWS::SSM::Parameter::Value"):
        ssm.put_parameter(Name=parameter["Default"], Value="30", Type="String", Overwrite=True)


def _create_stack(cfn: Any, stack_name: str, template: dict[str, Any], parameters: Mapping[str, str]) -> None:
    try:
        cfn.create_stack(
            StackName=stack_name, TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    except ClientError as exc:
        raise DeploymentError(f"create_stack {stack_name} failed: {exc}{_failure_reasons(cfn, stack_name)}") from exc


def _wait_for_completion(cfn: Any, stack_name: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            raise DeploymentError(f"stack {stack_name} ended {status}{_failure_reasons(cfn, stack_name)}")
        time.sleep(0.1)


def _failure_reasons(cfn: Any, stack_name: str) -> str:
    reasons: list[str] = []
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
        reasons += [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in events
                    if e["ResourceStatus"].endswith("FAILED")]
    except ClientError:
        pass
    reasons += [f"{r.get('LogicalResourceId')}: {r.get('Reason')}" for r in custom_resource_responses()
                if r.get("Status") != "SUCCESS" and f"{r.get('LogicalResourceId')}: " not in "".join(reasons)]
    return "".join(f"\n  - {reason}" for reason in reasons)


def _describe(cfn: Any, stack_name: str, template: dict[str, Any]) -> DeployedStack:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources: dict[str, str] = {}
    resource_types: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            resources[summary["LogicalResourceId"]] = summary.get("PhysicalResourceId", "")
            resource_types[summary["LogicalResourceId"]] = summary["ResourceType"]
    return DeployedStack(stack_name, outputs, resources, resource_types, template)
