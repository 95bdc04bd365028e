"""The IAM proof over every call the session's local stacks of the real template recorded (tests/e2e, tests/cli...):
runs after every other test (`after_all`, ordered by tests/conftest.py)."""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AFTER_ALL, whole_e2e_selected
from tests.iam import catalog
from tests.iam.policies import Principal, principals
from tests.iam.proof import CallLog, Result, check_calls, unused_grants
from tests.iam.unused import ALLOWED_UNUSED, allowance

pytestmark = getattr(pytest.mark, AFTER_ALL)

# Data-plane actions: reading or changing what the pipeline stores, rather than configuring it.
DATA_PLANE = ("dynamodb:*item", "dynamodb:query", "dynamodb:scan", "dynamodb:partiql*", "dynamodb:getrecords",
              "s3:getobject*", "s3:putobject*", "s3:deleteobject*", "sqs:*message*", "secretsmanager:getsecretvalue")


def real_template(stack: str) -> bool:
    return stack.startswith("FaceSwap")  # the app's stack and the variants tests deploy beside it


@pytest.fixture(scope="module")
def log(aws_call_log: Path) -> CallLog:
    log = CallLog.read(aws_call_log, real_template)
    if not log.deployments:
        pytest.skip("no local stack of the real template ran in this session (tests/e2e, tests/cli do)")
    return log


@pytest.fixture(scope="module")
def result(log: CallLog) -> Result:
    return check_calls(log)


def test_every_recorded_call_is_allowed_by_its_principals_policies(result: Result) -> None:
    assert result.calls > 0
    assert not result.denied, "calls the template's policies do not allow:\n" + "\n".join(sorted(set(result.denied)))


def test_every_granted_action_is_used_or_listed_with_its_reason(result: Result, request: pytest.FixtureRequest) -> None:
    if not whole_e2e_selected(request.config):
        pytest.skip("not every end-to-end test ran in this session: unused grants are judged over all of them")
    unused = unused_grants(result)
    unlisted = sorted({g.describe() for g in unused if allowance(g.principal, g.action) is None})
    assert not unlisted, "granted but never used (remove the grant, or list it in tests/iam/unused.py):\n" + \
        "\n".join(unlisted)
    stale = [entry for entry in ALLOWED_UNUSED
             if not entry.race and not any(entry.covers(g.principal, g.action) for g in unused)]
    assert not stale, f"tests/iam/unused.py lists grants that are used or gone: {stale}"


def test_presigned_urls_are_checked_as_their_signers_calls(log: CallLog, request: pytest.FixtureRequest) -> None:
    """url mode: the vendor's GET of an input is authorised against the start function's role, which signed it."""
    if not whole_e2e_selected(request.config):
        pytest.skip("the url input mode runs in tests/e2e/test_input_modes.py")
    presigned = [c for c in log.calls if c.via == "presigned URL"]
    assert presigned, "no presigned URL was recorded (tests/e2e/test_input_modes.py signs some)"
    assert {(c.service, c.operation) for c in presigned} == {("s3", "GetObject")}
    assert all("StartJob" in c.principal_id for c in presigned), {c.principal_id for c in presigned}


def test_dropping_a_statement_fails_the_proof_naming_the_call_and_the_statement(log: CallLog,
                                                                                result: Result) -> None:
    deployment = next(iter(log.deployments.values()))[0]
    finalize = result.principals["finalize"]
    [dropped] = [s for s in finalize.statements if "s3:PutObject" in s.values("Action")]
    policy, index = dropped.source.rsplit("[", 1)
    without = copy.deepcopy(dict(deployment.template))
    del without["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"][int(index.rstrip("]"))]

    denied = check_calls(log, templates={deployment.stack: without}).denied
    assert denied
    assert all(message.startswith("function finalize ") for message in denied), denied
    assert any("s3 PutObject" in m and "lacks a statement: Allow s3:PutObject on arn:aws:s3:::" in m
               and "/results/" in m for m in denied), denied


def test_no_data_plane_wildcard_on_a_function_the_internet_reaches(log: CallLog) -> None:
    deployment = next(iter(log.deployments.values()))[0]
    exposed = [p for p in principals(deployment).values() if p.logical_id in _internet_facing(deployment.template)]
    assert [p.label for p in exposed] == ["webhook"]
    wide = [s.describe() for p in exposed for s in _wide_statements(p)]
    assert not wide, "data-plane access to whole resources:\n" + "\n".join(wide)


def _internet_facing(template: Mapping[str, Any]) -> set[str]:
    """Functions that API Gateway may invoke (a Lambda permission for apigateway.amazonaws.com)."""
    return {_target(r["Properties"]["FunctionName"]) for r in template["Resources"].values()
            if r["Type"] == "AWS::Lambda::Permission"
            and r["Properties"].get("Principal") == "apigateway.amazonaws.com"}


def _target(value: Any) -> str:
    return str(value["Fn::GetAtt"][0] if isinstance(value, dict) and "Fn::GetAtt" in value else value.get("Ref"))


def _wide_statements(principal: Principal) -> Iterator[Any]:
    """Allow statements of data-plane actions on "*", a whole table (no dynamodb:LeadingKeys) or a whole bucket."""
    for statement in principal.statements:
        actions = [a for pattern in statement.values("Action") for a in catalog.expand(pattern)]
        if statement.effect != "Allow" or not any(_data_plane(a) for a in actions):
            continue
        leading_keys = "dynamodb:leadingkeys" in str(statement.body.get("Condition", {})).lower()
        for resource in statement.values("Resource"):
            whole_table = ":table/" in resource and "/" not in resource.split(":table/")[1] and not leading_keys
            whole_bucket = resource.startswith("arn:aws:s3:::") and resource.endswith("/*") and \
                resource.count("/") == 1
            if resource == "*" or whole_table or whole_bucket:
                yield statement
                break


def _data_plane(action: str) -> bool:
    return any(fnmatch.fnmatchcase(action, pattern) for pattern in DATA_PLANE)
