"""What IAM checks for one AWS call: the action(s), the resource ARN(s) and the condition keys that matter.

One row per (botocore service, operation), after AWS's Service Authorization Reference: HeadObject is s3:GetObject,
every part of a multipart upload s3:PutObject (AbortMultipartUpload has its own action), a listing s3:ListBucket on
the bucket with `s3:prefix`, DynamoDB item calls carry `dynamodb:LeadingKeys` (the partition key's values),
SendTask* is checked against the state machine that issued the token, PutEvents against the bus... A call without a
row fails the proof (add the row, with its test in test_actions.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from tests.iam.evaluator import Request

Params = Mapping[str, Any]


@dataclass(frozen=True)
class CallContext:
    """What the rows need besides a call's parameters: where it ran, and what the deployment knows."""

    account: str
    region: str
    partition_keys: Mapping[str, str] = field(default_factory=dict)  # table name -> its partition key attribute
    tokens: Mapping[str, str] = field(default_factory=dict)  # task token digest -> the issuing state machine's ARN
    secret_arns: tuple[str, ...] = ()  # the deployment's secrets (a SecretId may be a name)

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account if account else ''}:{resource}"


class UnknownCall(LookupError):
    pass


Row = Callable[[Params, CallContext], list[Request]]
IAM_PREFIXES = {"stepfunctions": "states"}  # botocore service name -> IAM's service prefix, where they differ


def requests_for(service: str, operation: str, params: Params, context: CallContext) -> list[Request]:
    row = TABLE.get((service, operation))
    if row is None:
        raise UnknownCall(f"no IAM row for {service} {operation} (tests/iam/actions.py)")
    return row(params, context)


# --- S3 ----------------------------------------------------------------------------------------------------------
def _object(params: Params) -> str:
    return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"


def _bucket(params: Params) -> str:
    return f"arn:aws:s3:::{params['Bucket']}"


def _s3_read(params: Params, _: CallContext) -> list[Request]:
    return [Request("s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject", _object(params))]


def _s3_write(params: Params, _: CallContext) -> list[Request]:
    requests = [Request("s3:PutObject", _object(params))]
    if params.get("ACL"):
        requests.append(Request("s3:PutObjectAcl", _object(params)))
    if params.get("Tagging"):
        requests.append(Request("s3:PutObjectTagging", _object(params)))
    return requests


def _s3_copy(params: Params, context: CallContext) -> list[Request]:
    source = params["CopySource"]
    if isinstance(source, str):
        bucket, _, key = unquote(source.lstrip("/")).partition("/")
        source = {"Bucket": bucket, "Key": key.split("?versionId=")[0]}
    return [*_s3_write(params, context), *_s3_read(source, context)]


def _s3_list(action: str) -> Row:
    def row(params: Params, _: CallContext) -> list[Request]:
        context = {"s3:prefix": params.get("Prefix", "")}
        if "Delimiter" in params:
            context["s3:delimiter"] = params["Delimiter"]
        return [Request(action, _bucket(params), context)]

    return row


def _on_object(action: str) -> Row:
    return lambda params, _: [Request(action, _object(params))]


def _on_bucket(action: str) -> Row:
    return lambda params, _: [Request(action, _bucket(params))]


# --- DynamoDB ------------------------------------------------------------------------------------------------------
def _table(context: CallContext, table: str, index: str | None = None) -> str:
    return context.arn("dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))


def _attribute(value: Any) -> str:
    """A key value as the SDK sent it: plain (boto3's resource layer) or typed ({"S": "..."})."""
    if isinstance(value, Mapping) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _leading_keys(context: CallContext, table: str, items: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    attribute = context.partition_keys.get(table)
    values = [_attribute(item[attribute]) for item in items if attribute and attribute in item]
    return {"dynamodb:LeadingKeys": values} if values else {}


def _item(action: str, item_param: str = "Key") -> Row:
    def row(params: Params, context: CallContext) -> list[Request]:
        keys: dict[str, Any] = _leading_keys(context, params["TableName"], [params.get(item_param) or {}])
        for name, key in (("ReturnValues", "dynamodb:ReturnValues"), ("Select", "dynamodb:Select")):
            if name in params:
                keys[key] = params[name]
        return [Request(action, _table(context, params["TableName"]), keys)]

    return row


def _table_wide(action: str) -> Row:
    def row(params: Params, context: CallContext) -> list[Request]:
        extra = {"dynamodb:Select": params["Select"]} if "Select" in params else {}
        return [Request(action, _table(context, params["TableName"], params.get("IndexName")), extra)]

    return row


def _stream(action: str) -> Row:
    """DynamoDB Streams: the stream's ARN (a GetRecords call names it through its iterator: the recorder adds it)."""
    return lambda params, _: [Request(action, str(params["StreamArn"]))]


def _batch(action: str) -> Row:
    def row(params: Params, context: CallContext) -> list[Request]:
        requests = []
        for table, wanted in params["RequestItems"].items():
            items = wanted["Keys"] if isinstance(wanted, Mapping) else [
                (w.get("PutRequest") or {}).get("Item") or (w.get("DeleteRequest") or {}).get("Key") or {}
                for w in wanted]
            requests.append(Request(action, _table(context, table), _leading_keys(context, table, items)))
        return requests

    return row


_TRANSACT_ACTIONS = {"Get": ("dynamodb:GetItem", "Key"), "Put": ("dynamodb:PutItem", "Item"),
                     "Update": ("dynamodb:UpdateItem", "Key"), "Delete": ("dynamodb:DeleteItem", "Key"),
                     "ConditionCheck": ("dynamodb:ConditionCheckItem", "Key")}


def _transact(params: Params, context: CallContext) -> list[Request]:
    """Each item of a transaction is authorised as its own item call."""
    requests = []
    for entry in params["TransactItems"]:
        for kind, body in entry.items():
            action, item_param = _TRANSACT_ACTIONS[kind]
            requests += _item(action, item_param)(body, context)
    return requests


# --- Step Functions, Lambda, Secrets Manager, SQS, EventBridge, SNS, CloudWatch ------------------------------------
def _state_machine(action: str, param: str = "stateMachineArn") -> Row:
    return lambda params, _: [Request(action, params[param])]


def _task_token(action: str) -> Row:
    def row(params: Params, context: CallContext) -> list[Request]:
        machine = context.tokens.get(params["taskToken"])
        if machine is None:
            raise UnknownCall(f"{action}: the token was not issued by any recorded execution")
        return [Request(action, machine)]

    return row


def _function(params: Params, context: CallContext) -> list[Request]:
    name = str(params["FunctionName"])
    if not name.startswith("arn:"):
        name = context.arn("lambda", f"function:{name.split(':function:')[-1]}")
    if params.get("Qualifier"):
        name += f":{params['Qualifier']}"
    return [Request("lambda:InvokeFunction", name)]


def _secret(action: str) -> Row:
    def row(params: Params, context: CallContext) -> list[Request]:
        secret = str(params["SecretId"])
        if not secret.startswith("arn:"):
            named = [arn for arn in context.secret_arns if arn.split(":secret:")[-1].rsplit("-", 1)[0] == secret]
            if len(named) != 1:
                raise UnknownCall(f"{action}: no single secret of the deployment is named {secret!r}")
            secret = named[0]
        extra = {"secretsmanager:VersionStage": params["VersionStage"]} if "VersionStage" in params else {}
        return [Request(action, secret, extra)]

    return row


def _queue(action: str) -> Row:
    def row(params: Params, context: CallContext) -> list[Request]:
        if "QueueUrl" in params:
            account, name = urlparse(str(params["QueueUrl"])).path.strip("/").split("/")[-2:]
            return [Request(action, f"arn:aws:sqs:{context.region}:{account}:{name}")]
        return [Request(action, context.arn("sqs", str(params["QueueName"])))]

    return row


def _put_events(params: Params, context: CallContext) -> list[Request]:
    requests = []
    for entry in params["Entries"]:
        bus = str(entry.get("EventBusName") or "default")
        arn = bus if bus.startswith("arn:") else context.arn("events", f"event-bus/{bus}")
        keys = {k: v for k, v in (("events:source", entry.get("Source")), ("events:detail-type",
                                                                             entry.get("DetailType"))) if v}
        requests.append(Request("events:PutEvents", arn, keys))
    return requests


def _publish(params: Params, _: CallContext) -> list[Request]:
    return [Request("sns:Publish", str(params.get("TopicArn") or params["TargetArn"]))]


def _metric_data(params: Params, _: CallContext) -> list[Request]:
    return [Request("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": params["Namespace"]})]


def _rows() -> Iterator[tuple[tuple[str, str], Row]]:
    s3: dict[str, Row] = {
        "GetObject": _s3_read, "HeadObject": _s3_read, "PutObject": _s3_write, "CreateMultipartUpload": _s3_write,
        "UploadPart": _on_object("s3:PutObject"), "CompleteMultipartUpload": _on_object("s3:PutObject"),
        "UploadPartCopy": _s3_copy, "CopyObject": _s3_copy,
        "AbortMultipartUpload": _on_object("s3:AbortMultipartUpload"),
        "ListParts": _on_object("s3:ListMultipartUploadParts"),
        "DeleteObject": lambda p, c: [Request("s3:DeleteObjectVersion" if p.get("VersionId") else "s3:DeleteObject",
                                              _object(p))],
        "GetObjectTagging": _on_object("s3:GetObjectTagging"), "PutObjectTagging": _on_object("s3:PutObjectTagging"),
        "ListObjectsV2": _s3_list("s3:ListBucket"), "ListObjects": _s3_list("s3:ListBucket"),
        "ListObjectVersions": _s3_list("s3:ListBucketVersions"), "HeadBucket": _on_bucket("s3:ListBucket"),
        "ListMultipartUploads": _on_bucket("s3:ListBucketMultipartUploads"),
        "GetBucketLocation": _on_bucket("s3:GetBucketLocation"),
        "PutBucketNotificationConfiguration": _on_bucket("s3:PutBucketNotification"),
        "GetBucketNotificationConfiguration": _on_bucket("s3:GetBucketNotification"),
    }
    dynamodb: dict[str, Row] = {
        "GetItem": _item("dynamodb:GetItem"), "DeleteItem": _item("dynamodb:DeleteItem"),
        "UpdateItem": _item("dynamodb:UpdateItem"), "PutItem": _item("dynamodb:PutItem", "Item"),
        "Query": _table_wide("dynamodb:Query"), "Scan": _table_wide("dynamodb:Scan"),
        "DescribeTable": _table_wide("dynamodb:DescribeTable"),
        "BatchGetItem": _batch("dynamodb:BatchGetItem"), "BatchWriteItem": _batch("dynamodb:BatchWriteItem"),
        "TransactWriteItems": _transact, "TransactGetItems": _transact,
    }
    dynamodbstreams: dict[str, Row] = {op: _stream(f"dynamodb:{op}") for op in (
        "DescribeStream", "GetShardIterator", "GetRecords")}
    stepfunctions: dict[str, Row] = {
        "StartExecution": _state_machine("states:StartExecution"),
        "StartSyncExecution": _state_machine("states:StartSyncExecution"),
        "ListExecutions": _state_machine("states:ListExecutions"),
        "DescribeExecution": _state_machine("states:DescribeExecution", "executionArn"),
        "StopExecution": _state_machine("states:StopExecution", "executionArn"),
        "GetExecutionHistory": _state_machine("states:GetExecutionHistory", "executionArn"),
        **{op: _task_token(f"states:{op}") for op in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat")},
    }
    sqs: dict[str, Row] = {op: _queue(f"sqs:{action}") for op, action in (
        ("SendMessage", "SendMessage"), ("SendMessageBatch", "SendMessage"), ("ReceiveMessage", "ReceiveMessage"),
        ("DeleteMessage", "DeleteMessage"), ("DeleteMessageBatch", "DeleteMessage"),
        ("ChangeMessageVisibility", "ChangeMessageVisibility"),
        ("ChangeMessageVisibilityBatch", "ChangeMessageVisibility"), ("GetQueueAttributes", "GetQueueAttributes"),
        ("GetQueueUrl", "GetQueueUrl"))}
    services: dict[str, dict[str, Row]] = {
        "s3": s3, "dynamodb": dynamodb, "dynamodbstreams": dynamodbstreams, "stepfunctions": stepfunctions,
        "sqs": sqs,
        "lambda": {"Invoke": _function},
        "secretsmanager": {"GetSecretValue": _secret("secretsmanager:GetSecretValue"),
                           "DescribeSecret": _secret("secretsmanager:DescribeSecret")},
        "events": {"PutEvents": _put_events}, "sns": {"Publish": _publish},
        "cloudwatch": {"PutMetricData": _metric_data},
        "sts": {"GetCallerIdentity": lambda p, c: []},  # needs no permission
    }
    for service, rows in services.items():
        for operation, row in rows.items():
            yield (service, operation), row


TABLE: dict[tuple[str, str], Row] = dict(_rows())
