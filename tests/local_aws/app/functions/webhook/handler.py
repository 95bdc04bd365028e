"""POST /hook {"job": ...}: completes the job's waitForTaskToken task."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job = json.loads(event["body"])["job"]
    item = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).get_item(Key={"pk": f"token#{job}"}).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"error": "unknown job"})}
    boto3.client("stepfunctions").send_task_success(taskToken=str(item["token"]), output=json.dumps({"via": "webhook"}))
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": json.dumps({"ok": True, "job": job})}
