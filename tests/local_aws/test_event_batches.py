"""local.aws.event_batches: Lambda's reading of a partial batch response, its event filtering and its limits on a
mapping's settings (AWS Lambda developer guide: "Handling errors for an SQS event source", "Control which events
Lambda sends to your function")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.aws.event_batches import (
    MappingConfig,
    MappingConfigError,
    RecordFilter,
    failed_items,
    sqs_filter_view,
)

IDS = ["m1", "m2", "m3"]


@pytest.mark.parametrize("payload", [None, "", "null", "{}", '{"batchItemFailures": null}',
                                     '{"batchItemFailures": []}', '{"other": 1}'])
def test_a_complete_success(payload: str | None) -> None:
    assert failed_items(payload, IDS) == []


def test_the_reported_items_fail() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "m3"}, {"itemIdentifier": "m1"}]}
    assert failed_items(json.dumps(response), IDS) == ["m3", "m1"]


@pytest.mark.parametrize("payload", [
    "not json", '"a string"', "[]", '{"batchItemFailures": "m1"}',
    '{"batchItemFailures": [{"itemIdentifier": ""}]}',  # an empty string itemIdentifier
    '{"batchItemFailures": [{"itemIdentifier": null}]}',  # a null itemIdentifier
    '{"batchItemFailures": [{"itemId": "m1"}]}',  # an itemIdentifier with a bad key name
    '{"batchItemFailures": [{"itemIdentifier": "m9"}]}',  # a message ID that doesn't exist
    '{"batchItemFailures": ["m1"]}',
])
def test_a_malformed_response_fails_the_whole_batch(payload: str) -> None:
    assert failed_items(payload, IDS) is None


def _record(pk: str, **image: Any) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": pk}}, "NewImage": {"pk": {"S": pk}, **image}}}


JOBS = '{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "JOB#"}]}}}}'
FLAGGED = json.dumps({"dynamodb": {"NewImage": {"kind": {"S": [{"anything-but": ["boring"]}]},
                                                "flag": {"BOOL": [{"exists": True}]}}}})


@pytest.mark.parametrize(("record", "matches"), [
    (_record("JOB#1"), True),  # prefix on a nested key
    (_record("TASK#1"), False),
    (_record("X#1", kind={"S": "special"}, flag={"BOOL": True}), True),  # the other filter (OR)
    (_record("X#2", kind={"S": "boring"}, flag={"BOOL": True}), False),  # anything-but
    (_record("X#3", kind={"S": "special"}), False),  # exists: true on an absent leaf
])
def test_filters_match_like_lambda_event_filtering(record: dict[str, Any], matches: bool) -> None:
    assert RecordFilter([JOBS, FLAGGED]).matches(record) is matches


def test_exact_values_exists_false_and_no_filters() -> None:
    removed = RecordFilter(['{"eventName": ["REMOVE"], "dynamodb": {"NewImage": {"pk": [{"exists": false}]}}}'])
    assert not removed.matches(_record("JOB#1"))
    assert removed.matches({"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "JOB#1"}}}})
    assert RecordFilter([]).matches(_record("anything"))


def test_an_sqs_body_is_filtered_as_json_when_it_is_json() -> None:
    on_body = RecordFilter(['{"body": {"kind": ["job"]}}'])
    assert on_body.matches(sqs_filter_view({"body": '{"kind": "job"}'}))
    assert not on_body.matches(sqs_filter_view({"body": "kind=job"}))
    assert RecordFilter(['{"body": ["plain"]}']).matches(sqs_filter_view({"body": "plain"}))


def _mapping(**entry: Any) -> MappingConfig:
    return MappingConfig.from_api({"UUID": "u", "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f",
                                   "EventSourceArn": "arn:aws:sqs:us-east-1:1:q", **entry})


def test_mapping_settings_as_lambda_reads_them() -> None:
    config = _mapping(ScalingConfig={"MaximumConcurrency": 7}, FunctionResponseTypes=["ReportBatchItemFailures"])
    assert (config.batch_size, config.concurrency, config.report_failures, config.window_s) == (10, 7, True, 0.0)
    assert _mapping().concurrency is None  # not capped by the mapping
    for refused in (1, 1001):
        with pytest.raises(MappingConfigError, match="MaximumConcurrency"):
            _mapping(ScalingConfig={"MaximumConcurrency": refused})
