"""Functions run from their own code zips in warm, isolated worker processes, like Lambda."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from typing import Any

from local.aws.stack import LocalStack
from local.eventually import eventually
from tests.local_aws.helpers import POLL_SECONDS, WAIT_SECONDS, get_item


def invoke(aws: LocalStack, payload: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = aws.client("lambda").invoke(FunctionName=aws.function_name("Probe"),
                                           Payload=json.dumps(payload).encode(), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_s3_upload_runs_the_function_from_its_bundle(aws: LocalStack) -> None:
    aws.client("s3").put_object(Bucket=aws.outputs["BucketName"], Key="in/plain one.txt", Body=b"{}")
    item = eventually(lambda: get_item(aws, "ingest#in/plain one.txt"), WAIT_SECONDS, interval=POLL_SECONDS,
                      what="the ingest item")
    assert item["greeting"] == {"S": "hi"}  # the stack parameter reached the function's environment
    assert item["user"] == {"S": "demo"}  # read from Secrets Manager through the moto endpoint
    assert item["function"] == {"S": aws.function_name("Ingest")}


def test_worker_sees_only_a_lambda_environment(aws: LocalStack) -> None:
    _, sandbox = invoke(aws, {"action": "env"})
    environ = sandbox["environ"]
    assert environ["TABLE_NAME"] == aws.outputs["TableName"] and environ["GREETING"] == "hi"
    assert environ["AWS_ENDPOINT_URL"] == aws.endpoint_url
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == aws.function_name("Probe")
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert os.environ["MOTO_PORT"] and "MOTO_PORT" not in environ  # the test process's env does not leak
    assert "PYTEST_CURRENT_TEST" not in environ and "VIRTUAL_ENV" not in environ
    assert sandbox["cwd"] == sandbox["sys_path"][0] == environ["LAMBDA_TASK_ROOT"]
    assert sandbox["probe_lib"] == "bundle"
    assert sandbox["importable"] == {"faceswap": False, "local": False, "tests": False}


def test_context_matches_the_function(aws: LocalStack) -> None:
    _, sandbox = invoke(aws, {"action": "env"})
    context = sandbox["context"]
    assert context["function_name"] == aws.function_name("Probe")
    assert context["invoked_function_arn"].endswith(f":function:{aws.function_name('Probe')}")
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == f"/aws/lambda/{aws.function_name('Probe')}"
    assert 0 < context["remaining_ms"] <= 2000
    assert uuid.UUID(context["aws_request_id"])


def test_handler_error_is_reported_like_lambda(aws: LocalStack) -> None:
    response, error = invoke(aws, {"action": "fail"}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "probe failed on purpose"
    assert any("handler.py" in frame for frame in error["stackTrace"])
    assert "[ERROR] ValueError: probe failed on purpose" in base64.b64decode(response["LogResult"]).decode()


def test_timeout_kills_the_worker_and_reports_lambda_error(aws: LocalStack) -> None:
    started = time.monotonic()
    response, error = invoke(aws, {"action": "sleep", "seconds": 10})
    assert time.monotonic() - started < 5
    assert response["FunctionError"]
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 2.00 seconds")
    probe_log = aws.runtime.log_lines(aws.function_name("Probe"))
    assert any("Task timed out after 2.00 seconds" in line for line in probe_log)
    _, again = invoke(aws, {"action": "sleep", "seconds": 0})
    assert again["slept"] == 0  # a fresh worker serves the next request


def test_logs_are_captured(aws: LocalStack) -> None:
    marker = f"log-{uuid.uuid4()}"
    response, _ = invoke(aws, {"action": "log", "text": marker}, LogType="Tail")
    name = aws.function_name("Probe")
    lines = aws.runtime.log_lines(name)
    assert marker in lines  # the print
    assert any(marker in line and '"level":"INFO"' in line for line in lines)  # the Powertools JSON log
    assert any(line.startswith("REPORT RequestId:") for line in lines)
    assert marker in base64.b64decode(response["LogResult"]).decode()
    events = aws.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any(marker in e["message"] for e in events)


def test_parallel_invocations_run_concurrently(aws: LocalStack) -> None:
    results: list[dict[str, Any]] = []

    def sleep_once() -> None:
        results.append(invoke(aws, {"action": "sleep", "seconds": 1})[1])

    threads = [threading.Thread(target=sleep_once) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 1.9
    first, second = results
    assert first["pid"] != second["pid"]
    assert first["started"] < second["ended"] and second["started"] < first["ended"]


def test_async_failures_are_retried_then_dead_lettered(aws: LocalStack) -> None:
    aws.client("s3").put_object(Bucket=aws.outputs["BucketName"], Key="in/fail-1.json", Body=b"{}")
    assert aws.runtime.wait_for_async(10)
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=aws.outputs["DeadLetterQueueUrl"].rsplit("/", 1)[1])["QueueUrl"]
    (message,) = eventually(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), WAIT_SECONDS,
                            interval=POLL_SECONDS, what="a dead letter")
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorMessage"] == "ingest refused in/fail-1.json"
    attempts = [i for i in aws.runtime.invocations if i.error and "fail-1" in i.error["errorMessage"]]
    assert len(attempts) == 3


def test_node_providers_are_acknowledged_not_run(aws: LocalStack) -> None:
    acknowledged = [i for i in aws.runtime.invocations
                    if isinstance(i.event, dict) and i.event.get("ResourceType") == "Custom::S3AutoDeleteObjects"]
    assert len(acknowledged) == 1 and acknowledged[0].error is None
