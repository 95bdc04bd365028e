"""The webhook handler, in this process, against moto's server (run by bench.webhook_handler):

    python -m bench.webhook_child --endpoint URL --requests N --batch B --env JSON --out FILE

A real table and real waiting executions: a state machine whose task stores its callback token on the TASK item
(aws-sdk:dynamodb:updateItem.waitForTaskToken) waits until the handler signals it. Each request is a fresh,
correctly signed delivery for a waiting task, so it does what production does: verify the signature, record the
status and webhook-id and read the token (one conditional update of the TASK item), and SendTaskSuccess. Timed:
end to end (perf_counter) and the handler thread's own CPU (thread_time; moto's server runs in another process).
Stdout carries the handler's logs, as on Lambda; the harness discards it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from botocore.endpoint import Endpoint

SECRET = "whsec_" + "YmVuY2gtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDAwMDAw"  # base64 of 32 fixed bytes
ROLE = "arn:aws:iam::123456789012:role/bench"
WARM_UP = 5
DUPLICATES = 100  # deliveries sent a second time (same webhook-id): the duplicate path


class Context:
    """The Lambda context attributes Powertools reads."""

    function_name, function_version, memory_limit_in_mb = "webhook", "$LATEST", "256"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:webhook"
    log_group_name, log_stream_name = "/aws/lambda/webhook", "bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _client(service: str, endpoint: str) -> Any:
    factory: Any = boto3.client
    return factory(service, endpoint_url=endpoint, region_name="us-east-1")


def create_resources(endpoint: str) -> dict[str, str]:
    ddb = _client("dynamodb", endpoint)
    ddb.create_table(TableName="bench-jobs", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    secret = _client("secretsmanager", endpoint).create_secret(Name="bench-webhook", SecretString=SECRET)["ARN"]
    waiting = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken", "End": True,
               "Parameters": {"TableName": "bench-jobs", "Key": {"pk": {"S.$": "$.pk"}},
                              "UpdateExpression": "SET callback_token = :t, job_id = :j",
                              "ExpressionAttributeValues": {":t": {"S.$": "$$.Task.Token"}, ":j": {"S.$": "$.pk"}}}}
    machine = _client("stepfunctions", endpoint).create_state_machine(
        name="bench-waiting", roleArn=ROLE,
        definition=json.dumps({"StartAt": "Wait for webhook", "States": {"Wait for webhook": waiting}}))
    return {"JOBS_TABLE": "bench-jobs", "WEBHOOK_SECRET_ARN": secret, "STATE_MACHINE": machine["stateMachineArn"]}


def start_waiting(endpoint: str, machine: str, task_ids: list[str], timeout: float = 60) -> None:
    """Start one execution per task and return once every token is stored."""
    sfn, ddb = _client("stepfunctions", endpoint), _client("dynamodb", endpoint)
    for task_id in task_ids:
        sfn.start_execution(stateMachineArn=machine, name=task_id, input=json.dumps({"pk": f"TASK#{task_id}"}))
    deadline = time.monotonic() + timeout
    for task_id in task_ids:
        while "callback_token" not in ddb.get_item(TableName="bench-jobs", Key={"pk": {"S": f"TASK#{task_id}"}},
                                                   ConsistentRead=True).get("Item", {}):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no token stored for {task_id}")
            time.sleep(0.01)


def delivery(task_id: str, webhook_id: str) -> dict[str, Any]:
    """The API Gateway (REST, proxy) event of one signed delivery, as the local API front builds it."""
    from faceswap.youcam.webhooks import sign_webhook

    body = json.dumps({"created_at": int(time.time()), "data": {"task_id": task_id, "task_status": "success"}},
                      separators=(",", ":"))
    headers = {"content-type": "application/json", **sign_webhook(SECRET, webhook_id, int(time.time()), body)}
    return {"resource": "/webhook", "path": "/webhook", "httpMethod": "POST", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
            "requestContext": {"resourcePath": "/webhook", "httpMethod": "POST", "path": "/prod/webhook",
                               "stage": "prod", "requestId": str(uuid.uuid4()), "accountId": "123456789012",
                               "apiId": "bench", "identity": {"sourceIp": "127.0.0.1"}},
            "body": body, "isBase64Encoded": False}


class CallCounter:
    """Counts the AWS API calls botocore sends (all clients), without changing what they do."""

    def __init__(self) -> None:
        self.count = 0
        original = Endpoint.make_request

        def counting(endpoint: Endpoint, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(endpoint, *args, **kwargs)

        Endpoint.make_request = counting  # type: ignore[method-assign,assignment]


def timed(handler: Any, event: dict[str, Any]) -> tuple[float, float, str]:
    wall, cpu = time.perf_counter(), time.thread_time()
    answer = handler(event, Context())
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    outcome = json.loads(answer["body"]).get("outcome", str(answer["statusCode"]))
    return wall, cpu, outcome


def round_trips(endpoint: str, count: int) -> list[float]:
    """The floor: one bare DynamoDB GetItem round trip to the same server, from this process."""
    ddb, seconds = _client("dynamodb", endpoint), []
    for _ in range(count):
        started = time.perf_counter()
        ddb.get_item(TableName="bench-jobs", Key={"pk": {"S": "TASK#none"}})
        seconds.append(time.perf_counter() - started)
    return seconds


def succeeded(endpoint: str, machine: str, expected: int, timeout: float = 30) -> int:
    sfn, deadline, count = _client("stepfunctions", endpoint), time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, statusFilter="SUCCEEDED")
        count = sum(len(page["executions"]) for page in pages)
        if count >= expected:
            break
        time.sleep(0.2)
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    for name in ("--endpoint", "--env", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    args = parser.parse_args(argv)
    resources = create_resources(args.endpoint)
    os.environ.update({**json.loads(args.env), **resources, "AWS_ENDPOINT_URL": args.endpoint})
    from webhook.app import lambda_handler  # after the environment is set, as on Lambda

    calls, counted = CallCounter(), 0
    total = args.requests + WARM_UP
    wall: list[float] = []
    cpu: list[float] = []
    outcomes: Counter[str] = Counter()
    for first in range(0, total, args.batch):
        task_ids = [f"task-{i:05d}" for i in range(first, min(first + args.batch, total))]
        start_waiting(args.endpoint, resources["STATE_MACHINE"], task_ids)
        for task_id in task_ids:
            event, before = delivery(task_id, f"msg_{task_id}"), calls.count
            w, c, outcome = timed(lambda_handler, event)
            outcomes[outcome] += 1
            if int(task_id.split("-")[1]) >= WARM_UP:
                wall.append(w)
                cpu.append(c)
                counted += calls.count - before
    again = range(WARM_UP, min(total, WARM_UP + DUPLICATES))
    duplicates = [timed(lambda_handler, delivery(f"task-{i:05d}", f"msg_task-{i:05d}")) for i in again]
    Path(args.out).write_text(json.dumps({
        "wall": wall, "cpu": cpu, "outcomes": dict(outcomes), "round_trips": round_trips(args.endpoint, 200),
        "duplicate_wall": [d[0] for d in duplicates], "duplicate_outcomes": dict(Counter(d[2] for d in duplicates)),
        "calls_per_request": counted / len(wall),
        "succeeded": succeeded(args.endpoint, resources["STATE_MACHINE"], total), "started": total,
    }))


if __name__ == "__main__":
    main()
