"""Asynchronous ("Event") invocations the way Lambda runs them: later, in the background, retried, with
the result sent to the function's on-success / on-failure destination (SQS, SNS or another Lambda).

Opt-in from `LambdaRuntime(async_invocations=True, retry_async_errors=True)`; by default moto runs these
synchronously inside the caller's request and drops errors.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from local.aws.call_log import record_function_call
from local.aws.server import boto_client

# (moto LambdaFunction, event, request id) -> (payload, is_error, logs, request id)
RunFunction = Callable[[Any, Any, str], tuple[str, bool, str, str]]
DEFAULT_MAX_RETRIES = 2  # Lambda's default for asynchronous invocations


class AsyncInvoker:
    def __init__(self, run: RunFunction, endpoint_url: str, *, retry_errors: bool,
                 retry_delays: Sequence[float], log: Callable[[str, str], None]) -> None:
        self._run = run
        self._endpoint_url = endpoint_url
        self._retry_errors = retry_errors
        self._retry_delays = list(retry_delays) or [0.0]
        self._log = log
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lambda-async")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Any, event: Any) -> None:
        future = self._executor.submit(self._deliver, fn, event)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no asynchronous invocation is queued or running (including retries)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.02)
        return False

    def shutdown(self, timeout: float = 10.0) -> None:
        self.wait_idle(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _deliver(self, fn: Any, event: Any) -> None:
        attempts = 1 + (_max_retries(fn) if self._retry_errors else 0)
        request_id = str(uuid.uuid4())  # Lambda keeps an event's request id across its retries
        for attempt in range(1, attempts + 1):
            payload, is_error, _, request_id = self._run(fn, event, request_id)
            if not is_error:
                self._send_to_destination(fn, "OnSuccess", event, (payload, request_id), attempt, "Success")
                return
            if attempt < attempts:
                delay = self._retry_delays[min(attempt - 1, len(self._retry_delays) - 1)]
                self._log(fn.function_name, f"async invocation failed (attempt {attempt}), retrying in {delay}s")
                time.sleep(delay)
        self._send_to_destination(fn, "OnFailure", event, (payload, request_id), attempts, "RetriesExhausted")

    def _send_to_destination(self, fn: Any, outcome: str, event: Any, result: tuple[str, str], attempts: int,
                             condition: str) -> None:
        destination = _destination_arn(fn, outcome)
        if not destination:
            return
        record = _destination_record(fn, event, result, attempts, condition)
        service = destination.split(":")[2]
        if service == "sqs":
            sqs = boto_client("sqs", endpoint_url=self._endpoint_url, region_name=fn.region)
            url = sqs.get_queue_url(QueueName=destination.split(":")[5])["QueueUrl"]
            record_function_call(fn.function_name, "sqs", "SendMessage", {"QueueUrl": url}, fn.region)  # its role
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        elif service == "sns":
            record_function_call(fn.function_name, "sns", "Publish", {"TopicArn": destination}, fn.region)
            boto_client("sns", endpoint_url=self._endpoint_url, region_name=fn.region).publish(
                TopicArn=destination, Message=json.dumps(record))
        elif service == "lambda":
            record_function_call(fn.function_name, "lambda", "Invoke", {"FunctionName": destination}, fn.region)
            boto_client("lambda", endpoint_url=self._endpoint_url, region_name=fn.region).invoke(
                FunctionName=destination, InvocationType="Event", Payload=json.dumps(record).encode())
        else:
            self._log(fn.function_name, f"destination {destination} is not emulated locally; record dropped")


def _invoke_config(fn: Any) -> dict[str, Any]:
    configs = getattr(fn, "event_invoke_config", None) or []
    return configs[-1].config if configs else {}


def _max_retries(fn: Any) -> int:
    return int(_invoke_config(fn).get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES))


def _destination_arn(fn: Any, outcome: str) -> str | None:
    destination = _invoke_config(fn).get("DestinationConfig", {}).get(outcome, {}).get("Destination")
    return str(destination) if destination else None


def _destination_record(fn: Any, event: Any, result: tuple[str, str], attempts: int,
                        condition: str) -> dict[str, Any]:
    payload, request_id = result
    try:
        response: Any = json.loads(payload)
    except ValueError:
        response = payload
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if condition != "Success":
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {"requestId": request_id, "functionArn": f"{fn.function_arn.split(':$LATEST')[0]}:$LATEST",
                           "condition": condition, "approximateInvokeCount": attempts},
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": response,
    }
