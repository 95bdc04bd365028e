"""cdk.json adopts the CDK's recommended feature flags (what `cdk flags` reports, shipped inside aws-cdk-lib as
recommended-feature-flags.json), and what they change in the template is reviewed here: the app is synthesized
with cdk.json's context and with no feature flag at all (the CDK's unconfigured behaviour), and every difference
must be one of REVIEWED. A new aws-cdk-lib that recommends more flags fails the first test until they are adopted,
and a flag that changes something new fails the second until the change is reviewed and pinned."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from infra.app import STACK_NAME
from infra.config import PipelineConfig
from infra.stack import FaceSwapStack
from tests.conftest import LOCAL_TEST_CONTEXT, Synthesized

ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = ROOT / "cdk.json"
# (resource type, what differs) -> the flag and why the change is wanted.
REVIEWED = {
    ("AWS::IAM::Policy", "PolicyDocument"):
        "@aws-cdk/aws-iam:minimizePolicies: statements merged and sorted, the same permissions (checked below)",
    ("AWS::S3::Bucket", "AccessControl"):
        "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy: the access-log bucket drops the legacy LogDeliveryWrite ACL",
    ("AWS::S3::BucketPolicy", "PolicyDocument"):
        "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy: instead its policy lets the S3 logging service write logs",
    ("AWS::ApiGateway::Stage", "AccessLogSetting"):
        "@aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard: the access log goes to the log group's ARN "
        "without the trailing ':*' (a log group's GetAtt Arn)",
}


def recommended_flags() -> dict[str, Any]:
    """The installed aws-cdk-lib's recommendations: its jsii tarball carries the file `cdk flags` reads."""
    (tarball,) = (Path(cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        return dict(json.load(member))


def _synth(outdir: Path, context: dict[str, Any], description: str) -> dict[str, Any]:
    app = cdk.App(outdir=str(outdir), context=context)
    FaceSwapStack(app, STACK_NAME, config=PipelineConfig.from_context(app.node), description=description)
    cdk.Aspects.of(app).add(AwsSolutionsChecks())  # as infra.app does
    app.synth()
    return dict(json.loads((outdir / f"{STACK_NAME}.template.json").read_text()))


@pytest.fixture(scope="module")
def templates(synthesized: Synthesized,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(without any feature flag, with them): the session's synth (cdk.json's context and the tests' settings),
    and the same settings without the flags."""
    context = {**json.loads(CDK_JSON.read_text())["context"], **LOCAL_TEST_CONTEXT}
    settings = {key: value for key, value in context.items() if not key.startswith("@aws-cdk")}
    flags = json.loads(synthesized.template_path.read_text())
    yield _synth(tmp_path_factory.mktemp("no-flags"), settings, flags["Description"]), flags


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(resource type, differing property / attribute / "added" / "removed") -> logical ids; other sections too."""
    found: dict[tuple[str, str], list[str]] = {}
    for section in sorted((set(before) | set(after)) - {"Resources"}):
        if before.get(section) != after.get(section):
            found.setdefault(("section", section), []).append(section)
    old, new = before["Resources"], after["Resources"]
    for lid in sorted(set(old) | set(new)):
        if lid not in new or lid not in old:
            found.setdefault(((old.get(lid) or new[lid])["Type"], "removed" if lid in old else "added"), []).append(lid)
            continue
        for key in sorted(set(old[lid]) | set(new[lid])):
            if key != "Properties" and old[lid].get(key) != new[lid].get(key):
                found.setdefault((old[lid]["Type"], key), []).append(lid)
        props_old, props_new = old[lid].get("Properties", {}), new[lid].get("Properties", {})
        for prop in sorted(set(props_old) | set(props_new)):
            if props_old.get(prop) != props_new.get(prop):
                found.setdefault((old[lid]["Type"], prop), []).append(lid)
    return found


def permissions(document: dict[str, Any]) -> set[tuple[str, ...]]:
    """A policy as the set of (effect, action, resource, condition, principal) it grants or denies."""
    def as_list(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    return {(s["Effect"], action, json.dumps(resource, sort_keys=True), json.dumps(s.get("Condition"), sort_keys=True),
             json.dumps(s.get("Principal"), sort_keys=True))
            for s in document["Statement"] for action in as_list(s["Action"]) for resource in as_list(s["Resource"])}


def test_cdk_json_adopts_every_recommended_flag() -> None:
    context = json.loads(CDK_JSON.read_text())["context"]
    recommended = recommended_flags()
    assert len(recommended) > 80
    missing = {flag: value for flag, value in recommended.items() if context.get(flag, object()) != value}
    assert not missing, f"recommended by aws-cdk-lib {cdk.__version__} and not in cdk.json: {missing}"


def test_the_flags_change_only_what_was_reviewed(templates: tuple[dict[str, Any], dict[str, Any]]) -> None:
    found = differences(*templates)
    unreviewed = {key: lids for key, lids in found.items() if key not in REVIEWED}
    assert not unreviewed, f"changed by the feature flags and not reviewed (add to REVIEWED with why): {unreviewed}"
    assert set(found) == set(REVIEWED), f"reviewed but no longer changed: {set(REVIEWED) - set(found)}"


def test_minimized_policies_keep_their_permissions(templates: tuple[dict[str, Any], dict[str, Any]]) -> None:
    before, after = (t["Resources"] for t in templates)
    for lid in differences(*templates)[("AWS::IAM::Policy", "PolicyDocument")]:
        old, new = (permissions(r[lid]["Properties"]["PolicyDocument"]) for r in (before, after))
        assert old == new, f"{lid}: {new ^ old}"


def test_the_access_log_bucket_is_written_by_the_logging_service_through_its_policy(
        templates: tuple[dict[str, Any], dict[str, Any]]) -> None:
    before, after = (t["Resources"] for t in templates)
    (lid,) = differences(*templates)[("AWS::S3::BucketPolicy", "PolicyDocument")]
    added = permissions(after[lid]["Properties"]["PolicyDocument"]) - permissions(
        before[lid]["Properties"]["PolicyDocument"])
    assert [(effect, action) for effect, action, *_ in added] == [("Allow", "s3:PutObject")]
    assert "logging.s3.amazonaws.com" in next(iter(added))[4]
    (bucket,) = differences(*templates)[("AWS::S3::Bucket", "AccessControl")]
    assert before[bucket]["Properties"]["AccessControl"] == "LogDeliveryWrite"
    assert "AccessControl" not in after[bucket]["Properties"]


def test_the_webhook_api_logs_to_its_log_groups_arn(templates: tuple[dict[str, Any], dict[str, Any]]) -> None:
    before, after = (t["Resources"] for t in templates)
    (lid,) = differences(*templates)[("AWS::ApiGateway::Stage", "AccessLogSetting")]
    assert "GetAtt" in json.dumps(before[lid]["Properties"]["AccessLogSetting"]["DestinationArn"])  # ends with :*
    destination = json.dumps(after[lid]["Properties"]["AccessLogSetting"]["DestinationArn"])
    assert ":log-group:" in destination and ":*" not in destination
