"""Polling and lookup helpers shared by the local AWS tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from local.aws.stack import LocalStack

T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Poll `probe` until it returns something truthy; fail with the timeout otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def get_item(aws: LocalStack, pk: str) -> dict[str, Any] | None:
    item = aws.client("dynamodb").get_item(TableName=aws.outputs["TableName"], Key={"pk": {"S": pk}}).get("Item")
    return item
