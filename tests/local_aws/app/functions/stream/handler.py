"""DynamoDB stream consumer: fails the batch when a record's new image has a `fail` attribute."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> None:
    if any("fail" in r["dynamodb"].get("NewImage", {}) for r in event["Records"]):
        raise RuntimeError("a record asked to fail")
    return None
