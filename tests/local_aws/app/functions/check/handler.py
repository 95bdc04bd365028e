"""One poll: counts polls per job; done only when the input asks to finish by polling."""

from __future__ import annotations

import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    table.update_item(Key={"pk": f"polls#{event['job']}"}, UpdateExpression="ADD n :one",
                      ExpressionAttributeValues={":one": 1})
    return {"done": bool(event.get("finish_by_polling"))}
