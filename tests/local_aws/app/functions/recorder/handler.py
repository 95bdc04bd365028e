"""EventBridge "Step Functions Execution Status Change" -> records the failed execution."""

from __future__ import annotations

import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> None:
    detail = event["detail"]
    boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).put_item(
        Item={"pk": f"failed#{detail['name']}", "status": detail["status"], "error": detail.get("error") or ""})
