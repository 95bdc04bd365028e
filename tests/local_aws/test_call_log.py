"""The call log (local/aws/call_log.py): what the stack's functions and state machines call, attributed to them, with
the parameters IAM looks at and nothing else; the task tokens traced to the execution that issued them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from local.aws.lambda_worker import RECORDER_ENV, scrub_parameters, token_digest
from local.aws.stack import LocalStack
from local.eventually import eventually
from tests.local_aws.helpers import get_item
from tests.local_aws.test_workflow import execution_arn, finished


def records(path: Path, session: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if session in (None, r["session"]) and kind in (None, r["kind"])]


def this_session(aws: LocalStack, log: Path) -> str:
    """The session of the package's LocalStack: the one that recorded its deployment."""
    deployments = [r for r in records(log, kind="deployment") if r["stack"] == aws.stack_name
                   and r["resources"] == aws.deployed.resources]
    assert len(deployments) == 1
    return str(deployments[0]["session"])


def test_the_deployment_is_recorded_with_the_values_of_its_references(aws: LocalStack, aws_call_log: Path) -> None:
    [deployment] = records(aws_call_log, this_session(aws, aws_call_log), "deployment")
    table = aws.deployed.logical_id("Items", "AWS::DynamoDB::Table")
    assert deployment["values"][f"Ref:{table}"] == aws.outputs["TableName"]
    assert deployment["values"][f"GetAtt:{table}.Arn"].endswith(f":table/{aws.outputs['TableName']}")
    assert Path(deployment["template"]).name == f"{aws.stack_name}.template.json"


def test_function_and_state_machine_calls_are_attributed_and_tokens_traced(aws: LocalStack,
                                                                           aws_call_log: Path) -> None:
    aws.client("s3").put_object(Bucket=aws.outputs["BucketName"], Key="in/logged1.json",
                                Body=json.dumps({"wait_seconds": 60}).encode())
    eventually(lambda: get_item(aws, "token#logged1"), 30)
    aws.client("stepfunctions").stop_execution(executionArn=execution_arn(aws, "logged1"))
    finished(aws, execution_arn(aws, "logged1"))
    session = this_session(aws, aws_call_log)
    calls = records(aws_call_log, session, "call")
    ingest = aws.function_name("Ingest")
    by_ingest = [(c["service"], c["operation"]) for c in calls if c["principal"] == {"type": "function",
                                                                                      "name": ingest}]
    assert {("s3", "GetObject"), ("dynamodb", "PutItem"), ("stepfunctions", "StartExecution")} <= set(by_ingest)
    get = next(c for c in calls if c["operation"] == "GetObject" and c["params"]["Key"] == "in/logged1.json")
    assert get["params"] == {"Bucket": aws.outputs["BucketName"], "Key": "in/logged1.json"}
    machine = aws.outputs["StateMachineArn"]
    invoke = next(c for c in calls if c["principal"].get("execution") == execution_arn(aws, "logged1"))
    assert (invoke["principal"]["arn"], invoke["service"], invoke["operation"]) == (machine, "lambda", "Invoke")
    assert set(invoke["params"]) == {"FunctionName"}  # the payload is not recorded
    token = next(t for t in records(aws_call_log, session, "token")
                 if t["execution"] == execution_arn(aws, "logged1"))
    assert token["state_machine"] == machine and token["token"].startswith("sha256:")


def test_a_stream_mappings_reads_are_recorded_once_each_as_its_functions(aws: LocalStack, aws_call_log: Path) -> None:
    """Lambda reads a table's stream with the function's role: the poller's reads count as the function's calls."""
    stream = aws.client("dynamodb").describe_table(TableName=aws.outputs["EventsTableName"])["Table"]["LatestStreamArn"]
    consumer = {"type": "function", "name": aws.function_name("StreamConsumer")}
    reads = eventually(lambda: [c for c in records(aws_call_log, this_session(aws, aws_call_log), "call")
                                if c["principal"] == consumer and c["service"] == "dynamodbstreams"] or None, 10)
    assert sorted((c["operation"], c["params"]["StreamArn"]) for c in reads) == [
        ("DescribeStream", stream), ("GetRecords", stream), ("GetShardIterator", stream)]


def test_only_what_iam_looks_at_is_kept() -> None:
    params = {"TableName": "t", "Key": {"pk": {"S": "TASK#1"}}, "UpdateExpression": "SET a = :a",
              "ExpressionAttributeValues": {":a": {"S": "secret"}}, "ReturnValues": "ALL_NEW"}
    assert scrub_parameters(params, frozenset({"pk"})) == {"TableName": "t", "Key": {"pk": {"S": "TASK#1"}},
                                                           "ReturnValues": "ALL_NEW"}
    put = {"TableName": "t", "Item": {"pk": "JOB#1", "token": "secret"}}
    assert scrub_parameters(put, frozenset({"pk"})) == {"TableName": "t", "Item": {"pk": "JOB#1"}}
    batch = {"RequestItems": {"t": [{"PutRequest": {"Item": {"pk": "A", "x": 1}}}]}}
    assert scrub_parameters(batch, frozenset({"pk"})) == {
        "RequestItems": {"t": [{"PutRequest": {"Item": {"pk": "A"}}}]}}
    events = {"Entries": [{"EventBusName": "b", "Source": "faceswap", "DetailType": "x", "Detail": "{...}"}]}
    assert scrub_parameters(events, frozenset()) == {"Entries": [{"EventBusName": "b", "Source": "faceswap",
                                                                  "DetailType": "x"}]}
    assert scrub_parameters({"taskToken": "tok", "output": "{}"}, frozenset()) == {"taskToken": token_digest("tok")}
    assert scrub_parameters({"Bucket": "b", "Key": "k", "Body": b"data"}, frozenset()) == {"Bucket": "b", "Key": "k"}


def test_a_worker_records_botocore_calls_once_botocore_is_imported(tmp_path: Path) -> None:
    """The import hook wraps botocore's client when the handler first imports it (the worker starts stdlib-only)."""
    log = tmp_path / "calls.jsonl"
    script = textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2] / "local" / "aws")!r})
        import lambda_worker as worker
        os.environ[worker.RECORDER_ENV] = json.dumps({{"path": {str(log)!r}, "session": "s1", "item_keys": []}})
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "fn"
        worker._install_call_recorder()
        assert "botocore" not in sys.modules
        assert worker.RECORDER_ENV not in os.environ  # the handler does not see it
        import boto3
        s3 = boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          aws_access_key_id="a", aws_secret_access_key="b")
        try:
            s3.put_object(Bucket="b", Key="k", Body=b"secret")
        except Exception:
            pass
        s3.generate_presigned_url("get_object", Params={{"Bucket": "b", "Key": "in"}}, ExpiresIn=60)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "AWS_MAX_ATTEMPTS": "1"})
    assert result.returncode == 0, result.stderr
    call, presigned = records(log)
    assert call == {"kind": "call", "session": "s1", "principal": {"type": "function", "name": "fn"},
                    "service": "s3", "operation": "PutObject", "region": "us-east-1", "via": "SDK call",
                    "params": {"Bucket": "b", "Key": "k"}}
    # A presigned URL: the GET its holder makes later is authorised against the signer, so it is the signer's call.
    assert presigned == {**call, "operation": "GetObject", "via": "presigned URL",
                         "params": {"Bucket": "b", "Key": "in"}}
    assert RECORDER_ENV == "_LOCAL_AWS_CALL_RECORDER"
