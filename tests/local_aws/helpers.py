"""Polling and lookup helpers shared by the local AWS tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def paused(aws: LocalStack, source_arn: str) -> Iterator[None]:
    """The source's event source mapping disabled while the block runs (what it sends then makes one batch after),
    enabled again at the end; the pollers see both at once."""
    (uuid,) = [m.uuid for m in aws.event_sources.mappings() if m.source_arn == source_arn]
    lambda_ = aws.client("lambda")
    lambda_.update_event_source_mapping(UUID=uuid, Enabled=False)
    aws.event_sources.refresh()
    try:
        yield
    finally:
        lambda_.update_event_source_mapping(UUID=uuid, Enabled=True)
        aws.event_sources.refresh()
