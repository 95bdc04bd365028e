"""The IAM evaluator against AWS's documented evaluation rules (policy evaluation logic, condition operators)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam.evaluator import Request, Statement, UnsupportedCondition, evaluate

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/Jobs"


def allows(body: dict[str, Any], request: Request) -> bool:
    return evaluate([Statement("test[0]", {"Effect": "Allow", **body})], request).allowed


def test_actions_match_case_insensitively_with_wildcards() -> None:
    assert allows({"Action": "S3:getobject*", "Resource": "*"}, Request("s3:GetObjectTagging", "arn:aws:s3:::b/k"))
    assert allows({"Action": "s3:Get?bject", "Resource": "*"}, Request("s3:GetObject", "arn:aws:s3:::b/k"))
    assert not allows({"Action": "s3:GetObject", "Resource": "*"}, Request("s3:GetObjectTagging", "x"))
    assert allows({"NotAction": "s3:Delete*", "Resource": "*"}, Request("s3:GetObject", "x"))
    assert not allows({"NotAction": "s3:Delete*", "Resource": "*"}, Request("s3:DeleteObject", "x"))


def test_resources_match_case_sensitively_and_wildcards_cross_slashes() -> None:
    rule = {"Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/results/*"}
    assert allows(rule, Request("s3:PutObject", "arn:aws:s3:::b/results/j/output.mp4"))
    assert not allows(rule, Request("s3:PutObject", "arn:aws:s3:::b/Results/j"))
    assert not allows(rule, Request("s3:PutObject", "arn:aws:s3:::b/videos/a.mp4"))
    assert not allows({"Action": "s3:*", "Resource": "arn:aws:s3:::b.c"}, Request("s3:GetObject", "arn:aws:s3:::bxc"))
    assert allows({"Action": "s3:*", "NotResource": "arn:aws:s3:::b/secret/*"}, Request("s3:GetObject",
                                                                                        "arn:aws:s3:::b/open"))
    variable = {"Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*"}
    assert allows(variable, Request("s3:GetObject", "arn:aws:s3:::b/ann/x", {"aws:username": "ann"}))
    assert not allows(variable, Request("s3:GetObject", "arn:aws:s3:::b/bob/x", {"aws:username": "ann"}))


def test_an_explicit_deny_wins_and_nothing_allows_by_default() -> None:
    allow = Statement("p[0]", {"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE})
    deny = Statement("p[1]", {"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"})
    decision = evaluate([allow, deny], Request("dynamodb:Scan", TABLE))
    assert not decision.allowed and decision.denied_by == (deny,) and decision.allowed_by == (allow,)
    assert evaluate([allow, deny], Request("dynamodb:GetItem", TABLE)).allowed
    assert not evaluate([], Request("dynamodb:GetItem", TABLE)).allowed


LEADING = {"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": TABLE,
           "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TASK#*"]}}}


def test_for_all_values_string_like_on_leading_keys() -> None:
    assert allows(LEADING, Request("dynamodb:UpdateItem", TABLE, {"dynamodb:LeadingKeys": ["TASK#1"]}))
    assert not allows(LEADING, Request("dynamodb:UpdateItem", TABLE, {"dynamodb:LeadingKeys": ["TASK#1", "JOB#1"]}))
    # AWS's documented pitfall: ForAllValues holds on an empty set (a Scan has no leading keys).
    assert allows(LEADING, Request("dynamodb:UpdateItem", TABLE))


def test_for_any_value_needs_one_matching_value() -> None:
    rule = {"Action": "*", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"k": ["a", "b"]}}}
    assert allows(rule, Request("x:Y", "*", {"k": ["z", "b"]}))
    assert not allows(rule, Request("x:Y", "*", {"k": ["z"]}))
    assert not allows(rule, Request("x:Y", "*"))


@pytest.mark.parametrize(("operator", "wanted", "value", "expected"), [
    ("StringEquals", "abc", "abc", True), ("StringEquals", "abc", "ABC", False),
    ("StringEqualsIgnoreCase", "abc", "ABC", True), ("StringNotEquals", "abc", "abd", True),
    ("StringNotEquals", ["a", "b"], "b", False), ("StringNotEqualsIgnoreCase", "abc", "ABC", False),
    ("StringLike", "results/*", "results/j/x", True), ("StringLike", "a?c", "abc", True),
    ("StringLike", "a.c", "abc", False), ("StringNotLike", "results/*", "videos/a", True),
    ("ArnLike", "arn:aws:states:*:123456789012:stateMachine:*", "arn:aws:states:us-east-1:123456789012:stateMachine:J",
     True),
    ("ArnLike", "arn:aws:s3:::b", "arn:aws:s3:::c", False),
    ("ArnEquals", "arn:aws:events:us-east-1:1:rule/R", "arn:aws:events:us-east-1:1:rule/R", True),
    ("ArnNotEquals", "arn:aws:events:us-east-1:1:rule/R", "arn:aws:events:us-east-1:1:rule/S", True),
    ("ArnNotLike", "arn:aws:events:*:*:rule/*", "arn:aws:events:us-east-1:1:rule/S", False),
    ("Bool", "false", "false", True), ("Bool", "false", "true", False), ("Bool", True, "true", True),
    ("NumericLessThan", "10", "9", True), ("NumericGreaterThanEquals", "10", "9", False),
    ("NumericNotEquals", "10", "10", False),
])
def test_condition_operators(operator: str, wanted: Any, value: str, expected: bool) -> None:
    rule = {"Action": "*", "Resource": "*", "Condition": {operator: {"key": wanted}}}
    assert allows(rule, Request("x:Y", "*", {"key": value})) is expected


def test_missing_keys() -> None:
    def rule(operator: str, wanted: str = "v") -> dict[str, Any]:
        return {"Action": "*", "Resource": "*", "Condition": {operator: {"aws:SourceArn": wanted}}}

    assert not allows(rule("StringEquals"), Request("x:Y", "*"))
    assert allows(rule("StringEqualsIfExists"), Request("x:Y", "*"))
    assert allows(rule("StringNotEquals"), Request("x:Y", "*"))  # a negated operator holds without the key
    assert allows(rule("Null", "true"), Request("x:Y", "*"))
    assert not allows(rule("Null", "false"), Request("x:Y", "*"))
    assert allows(rule("Null", "false"), Request("x:Y", "*", {"aws:sourcearn": "a"}))  # keys: case-insensitive


def test_all_blocks_and_keys_must_match() -> None:
    rule = {"Action": "*", "Resource": "*", "Condition": {
        "StringEquals": {"aws:SourceAccount": "1", "a": "b"}, "ArnLike": {"aws:SourceArn": "arn:aws:s3:::b"}}}
    context = {"aws:SourceAccount": "1", "a": "b", "aws:SourceArn": "arn:aws:s3:::b"}
    assert allows(rule, Request("x:Y", "*", context))
    assert not allows(rule, Request("x:Y", "*", {**context, "a": "c"}))
    assert not allows(rule, Request("x:Y", "*", {**context, "aws:SourceArn": "arn:aws:s3:::c"}))


def test_an_operator_it_does_not_know_fails_loudly() -> None:
    rule = {"Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01"}}}
    with pytest.raises(UnsupportedCondition):
        allows(rule, Request("x:Y", "*", {"aws:CurrentTime": "2026-01-01"}))
