"""Lookup helpers shared by the local AWS tests (they wait with local.eventually)."""

from __future__ import annotations

from typing import Any

from local.aws.stack import LocalStack

WAIT_SECONDS, POLL_SECONDS = 10.0, 0.05  # how long the local AWS tests wait for something, and how often they look


def get_item(aws: LocalStack, pk: str) -> dict[str, Any] | None:
    item = aws.client("dynamodb").get_item(TableName=aws.outputs["TableName"], Key={"pk": {"S": pk}}).get("Item")
    return item
