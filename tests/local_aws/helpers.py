"""Lookup helpers shared by the local AWS tests (they wait with local.eventually)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local.aws.stack import LocalStack

WAIT_SECONDS, POLL_SECONDS = 10.0, 0.05  # how long the local AWS tests wait for something, and how often they look


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
