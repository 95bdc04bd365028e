"""One case per row of tests/iam/actions.py: the action(s), resource(s) and condition keys IAM checks for a call."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam import catalog
from tests.iam.actions import TABLE, CallContext, UnknownCall, requests_for
from tests.iam.evaluator import Request

A = "123456789012"
SM = f"arn:aws:states:us-east-1:{A}:stateMachine:Job"
CONTEXT = CallContext(A, "us-east-1", partition_keys={"Jobs": "pk"}, tokens={"sha256:t1": SM},
                      secret_arns=(f"arn:aws:secretsmanager:us-east-1:{A}:secret:ApiKey-AbCdEf",))
OBJ = "arn:aws:s3:::b/results/j/output.mp4"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{A}:table/Jobs"
STREAM_ARN = f"{TABLE_ARN}/stream/2025-10-09T08:53:20.000"
QUEUE_URL = f"http://127.0.0.1:7790/{A}/StartDLQ"
QUEUE = f"arn:aws:sqs:us-east-1:{A}:StartDLQ"
LEADING = {"dynamodb:LeadingKeys": ["TASK#1"]}
OBJ_PARAMS = {"Bucket": "b", "Key": "results/j/output.mp4"}

CASES: list[tuple[str, str, dict[str, Any], list[Request]]] = [
    ("s3", "GetObject", OBJ_PARAMS, [Request("s3:GetObject", OBJ)]),
    ("s3", "GetObject", {**OBJ_PARAMS, "VersionId": "v1"}, [Request("s3:GetObjectVersion", OBJ)]),
    ("s3", "HeadObject", OBJ_PARAMS, [Request("s3:GetObject", OBJ)]),
    ("s3", "PutObject", OBJ_PARAMS, [Request("s3:PutObject", OBJ)]),
    ("s3", "PutObject", {**OBJ_PARAMS, "ACL": "private", "Tagging": "a=b"},
     [Request("s3:PutObject", OBJ), Request("s3:PutObjectAcl", OBJ), Request("s3:PutObjectTagging", OBJ)]),
    ("s3", "CreateMultipartUpload", OBJ_PARAMS, [Request("s3:PutObject", OBJ)]),
    ("s3", "UploadPart", OBJ_PARAMS, [Request("s3:PutObject", OBJ)]),
    ("s3", "CompleteMultipartUpload", OBJ_PARAMS, [Request("s3:PutObject", OBJ)]),
    ("s3", "UploadPartCopy", {**OBJ_PARAMS, "CopySource": "src/videos/a.mp4"},
     [Request("s3:PutObject", OBJ), Request("s3:GetObject", "arn:aws:s3:::src/videos/a.mp4")]),
    ("s3", "CopyObject", {**OBJ_PARAMS, "CopySource": {"Bucket": "src", "Key": "videos/a b.mp4"}},
     [Request("s3:PutObject", OBJ), Request("s3:GetObject", "arn:aws:s3:::src/videos/a b.mp4")]),
    ("s3", "AbortMultipartUpload", OBJ_PARAMS, [Request("s3:AbortMultipartUpload", OBJ)]),
    ("s3", "ListParts", OBJ_PARAMS, [Request("s3:ListMultipartUploadParts", OBJ)]),
    ("s3", "DeleteObject", OBJ_PARAMS, [Request("s3:DeleteObject", OBJ)]),
    ("s3", "GetObjectTagging", OBJ_PARAMS, [Request("s3:GetObjectTagging", OBJ)]),
    ("s3", "PutObjectTagging", OBJ_PARAMS, [Request("s3:PutObjectTagging", OBJ)]),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "results/j/"},
     [Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "results/j/"})]),
    ("s3", "ListObjects", {"Bucket": "b", "Delimiter": "/"},
     [Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "", "s3:delimiter": "/"})]),
    ("s3", "ListObjectVersions", {"Bucket": "b"}, [Request("s3:ListBucketVersions", "arn:aws:s3:::b",
                                                           {"s3:prefix": ""})]),
    ("s3", "HeadBucket", {"Bucket": "b"}, [Request("s3:ListBucket", "arn:aws:s3:::b")]),
    ("s3", "ListMultipartUploads", {"Bucket": "b"}, [Request("s3:ListBucketMultipartUploads", "arn:aws:s3:::b")]),
    ("s3", "GetBucketLocation", {"Bucket": "b"}, [Request("s3:GetBucketLocation", "arn:aws:s3:::b")]),
    ("s3", "PutBucketNotificationConfiguration", {"Bucket": "b"},
     [Request("s3:PutBucketNotification", "arn:aws:s3:::b")]),
    ("s3", "GetBucketNotificationConfiguration", {"Bucket": "b"},
     [Request("s3:GetBucketNotification", "arn:aws:s3:::b")]),
    ("dynamodb", "GetItem", {"TableName": "Jobs", "Key": {"pk": "TASK#1"}}, [Request("dynamodb:GetItem", TABLE_ARN,
                                                                                     LEADING)]),
    ("dynamodb", "UpdateItem", {"TableName": "Jobs", "Key": {"pk": {"S": "TASK#1"}}, "ReturnValues": "ALL_NEW"},
     [Request("dynamodb:UpdateItem", TABLE_ARN, {**LEADING, "dynamodb:ReturnValues": "ALL_NEW"})]),
    ("dynamodb", "PutItem", {"TableName": "Jobs", "Item": {"pk": "TASK#1"}}, [Request("dynamodb:PutItem", TABLE_ARN,
                                                                                      LEADING)]),
    ("dynamodb", "DeleteItem", {"TableName": "Jobs", "Key": {"pk": "TASK#1"}},
     [Request("dynamodb:DeleteItem", TABLE_ARN, LEADING)]),
    ("dynamodb", "Query", {"TableName": "Jobs", "IndexName": "byState"},
     [Request("dynamodb:Query", f"{TABLE_ARN}/index/byState")]),
    ("dynamodb", "Scan", {"TableName": "Jobs", "Select": "COUNT"},
     [Request("dynamodb:Scan", TABLE_ARN, {"dynamodb:Select": "COUNT"})]),
    ("dynamodb", "DescribeTable", {"TableName": "Jobs"}, [Request("dynamodb:DescribeTable", TABLE_ARN)]),
    ("dynamodb", "BatchGetItem", {"RequestItems": {"Jobs": {"Keys": [{"pk": "A"}, {"pk": "B"}]}}},
     [Request("dynamodb:BatchGetItem", TABLE_ARN, {"dynamodb:LeadingKeys": ["A", "B"]})]),
    ("dynamodb", "BatchWriteItem", {"RequestItems": {"Jobs": [{"PutRequest": {"Item": {"pk": "A"}}},
                                                              {"DeleteRequest": {"Key": {"pk": "B"}}}]}},
     [Request("dynamodb:BatchWriteItem", TABLE_ARN, {"dynamodb:LeadingKeys": ["A", "B"]})]),
    ("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Update": {"TableName": "Jobs", "Key": {"pk": "ADMISSION"}}},
        {"ConditionCheck": {"TableName": "Jobs", "Key": {"pk": "JOB#1"}}}]},
     [Request("dynamodb:UpdateItem", TABLE_ARN, {"dynamodb:LeadingKeys": ["ADMISSION"]}),
      Request("dynamodb:ConditionCheckItem", TABLE_ARN, {"dynamodb:LeadingKeys": ["JOB#1"]})]),
    ("dynamodb", "TransactGetItems", {"TransactItems": [{"Get": {"TableName": "Jobs", "Key": {"pk": "A"}}}]},
     [Request("dynamodb:GetItem", TABLE_ARN, {"dynamodb:LeadingKeys": ["A"]})]),
    *[("dynamodbstreams", op, {"StreamArn": STREAM_ARN}, [Request(f"dynamodb:{op}", STREAM_ARN)])
      for op in ("DescribeStream", "GetShardIterator", "GetRecords")],
    ("stepfunctions", "StartExecution", {"stateMachineArn": SM, "name": "j"}, [Request("states:StartExecution", SM)]),
    ("stepfunctions", "StartSyncExecution", {"stateMachineArn": SM}, [Request("states:StartSyncExecution", SM)]),
    ("stepfunctions", "ListExecutions", {"stateMachineArn": SM}, [Request("states:ListExecutions", SM)]),
    ("stepfunctions", "DescribeExecution", {"executionArn": f"{SM}:j"},
     [Request("states:DescribeExecution", f"{SM}:j")]),
    ("stepfunctions", "StopExecution", {"executionArn": f"{SM}:j"}, [Request("states:StopExecution", f"{SM}:j")]),
    ("stepfunctions", "GetExecutionHistory", {"executionArn": f"{SM}:j"},
     [Request("states:GetExecutionHistory", f"{SM}:j")]),
    ("stepfunctions", "SendTaskSuccess", {"taskToken": "sha256:t1"}, [Request("states:SendTaskSuccess", SM)]),
    ("stepfunctions", "SendTaskFailure", {"taskToken": "sha256:t1"}, [Request("states:SendTaskFailure", SM)]),
    ("stepfunctions", "SendTaskHeartbeat", {"taskToken": "sha256:t1"}, [Request("states:SendTaskHeartbeat", SM)]),
    ("lambda", "Invoke", {"FunctionName": "DetectFaces"},
     [Request("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{A}:function:DetectFaces")]),
    ("lambda", "Invoke", {"FunctionName": f"arn:aws:lambda:us-east-1:{A}:function:F", "Qualifier": "live"},
     [Request("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{A}:function:F:live")]),
    ("secretsmanager", "GetSecretValue", {"SecretId": "ApiKey", "VersionStage": "AWSCURRENT"},
     [Request("secretsmanager:GetSecretValue", CONTEXT.secret_arns[0],
              {"secretsmanager:VersionStage": "AWSCURRENT"})]),
    ("secretsmanager", "DescribeSecret", {"SecretId": CONTEXT.secret_arns[0]},
     [Request("secretsmanager:DescribeSecret", CONTEXT.secret_arns[0])]),
    *[("sqs", op, {"QueueUrl": QUEUE_URL}, [Request(f"sqs:{action}", QUEUE)]) for op, action in (
        ("SendMessage", "SendMessage"), ("SendMessageBatch", "SendMessage"), ("ReceiveMessage", "ReceiveMessage"),
        ("DeleteMessage", "DeleteMessage"), ("DeleteMessageBatch", "DeleteMessage"),
        ("ChangeMessageVisibility", "ChangeMessageVisibility"),
        ("ChangeMessageVisibilityBatch", "ChangeMessageVisibility"), ("GetQueueAttributes", "GetQueueAttributes"))],
    ("sqs", "GetQueueUrl", {"QueueName": "StartDLQ"}, [Request("sqs:GetQueueUrl", QUEUE)]),
    ("events", "PutEvents", {"Entries": [{"Source": "faceswap", "DetailType": "FaceSwap Job State Change"},
                                         {"EventBusName": "jobs", "Source": "faceswap"}]},
     [Request("events:PutEvents", f"arn:aws:events:us-east-1:{A}:event-bus/default",
              {"events:source": "faceswap", "events:detail-type": "FaceSwap Job State Change"}),
      Request("events:PutEvents", f"arn:aws:events:us-east-1:{A}:event-bus/jobs", {"events:source": "faceswap"})]),
    ("sns", "Publish", {"TopicArn": f"arn:aws:sns:us-east-1:{A}:Alarms"},
     [Request("sns:Publish", f"arn:aws:sns:us-east-1:{A}:Alarms")]),
    ("cloudwatch", "PutMetricData", {"Namespace": "FaceSwap"},
     [Request("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "FaceSwap"})]),
    ("sts", "GetCallerIdentity", {}, []),
]


@pytest.mark.parametrize(("service", "operation", "params", "expected"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_row(service: str, operation: str, params: dict[str, Any], expected: list[Request]) -> None:
    assert requests_for(service, operation, params, CONTEXT) == expected
    assert all(catalog.known(request.action) for request in expected)


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == {(service, operation) for service, operation, _, _ in CASES}


def test_a_call_without_a_row_or_with_a_foreign_token_is_refused() -> None:
    with pytest.raises(UnknownCall, match="no IAM row for s3 DeleteObjects"):
        requests_for("s3", "DeleteObjects", {"Bucket": "b"}, CONTEXT)
    with pytest.raises(UnknownCall, match="not issued by any recorded execution"):
        requests_for("stepfunctions", "SendTaskSuccess", {"taskToken": "sha256:other"}, CONTEXT)
    with pytest.raises(UnknownCall, match="no single secret"):
        requests_for("secretsmanager", "GetSecretValue", {"SecretId": "Nope"}, CONTEXT)
