"""Test probe: reports its sandbox, sleeps, fails, logs, or echoes an API Gateway proxy event."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
import time
from typing import Any

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="probe")
tracer = Tracer(service="probe")
probe_lib = importlib.import_module("probe_lib")  # shipped in this bundle


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> Any:
    if "httpMethod" in event:
        return _echo(event)
    action = event.get("action")
    if action == "sleep":
        started = time.time()
        print(f"sleeping {event['seconds']}s")
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "started": started, "ended": time.time(), "pid": os.getpid()}
    if action == "fail":
        raise ValueError("probe failed on purpose")
    if action == "log":
        print(event["text"])
        logger.info("structured", extra={"text": event["text"]})
        return {"logged": True}
    return _sandbox(context)


def _sandbox(context: Any) -> dict[str, Any]:
    return {
        "environ": dict(os.environ), "cwd": os.getcwd(), "sys_path": sys.path, "probe_lib": probe_lib.ORIGIN,
        "importable": {name: importlib.util.find_spec(name) is not None for name in ("faceswap", "local", "tests")},
        "context": {"function_name": context.function_name, "memory_limit_in_mb": context.memory_limit_in_mb,
                    "aws_request_id": context.aws_request_id, "invoked_function_arn": context.invoked_function_arn,
                    "log_group_name": context.log_group_name, "log_stream_name": context.log_stream_name,
                    "remaining_ms": context.get_remaining_time_in_millis()},
    }


def _echo(event: dict[str, Any]) -> dict[str, Any]:
    if event["path"].endswith("/boom"):
        raise RuntimeError("boom")
    if event["path"].endswith("/slow"):
        time.sleep(1.5)
    if event["path"].endswith(".bin"):
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    return {"statusCode": 201, "headers": {"X-Probe": "1", "Content-Type": "application/json"},
            "body": json.dumps({k: event[k] for k in ("resource", "path", "httpMethod", "pathParameters",
                                                     "queryStringParameters", "multiValueQueryStringParameters",
                                                     "body", "isBase64Encoded", "requestContext", "headers")})}
