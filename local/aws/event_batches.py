"""What the SQS and DynamoDB-stream pollers share: a mapping's settings as Lambda reads them, its counters, event
filtering (FilterCriteria) and the reading of a partial batch response (ReportBatchItemFailures).

Filtering follows Lambda's event filtering: each filter's Pattern is an EventBridge-style pattern (exact values,
`prefix`, `suffix`, `anything-but`, `exists`, `numeric`, `equals-ignore-case`, nested keys such as
`dynamodb.Keys.pk.S`; keys AND, filters OR), matched by moto's EventBridge matcher; a record that matches no
filter is dropped (an SQS message is then deleted). An SQS body that is JSON is matched as JSON, else as a string.

A partial batch response is read as Lambda documents it: no response, `{}`, or a null or empty `batchItemFailures`
is a complete success; a response that is not a JSON object, or an item whose `itemIdentifier` is missing, empty,
null or not one of the batch's ids, fails the whole batch.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.events.models import EventPattern

MIN_CONCURRENCY, MAX_CONCURRENCY = 2, 1000  # ScalingConfig.MaximumConcurrency on AWS


class MappingConfigError(ValueError):
    """A mapping setting AWS would have refused when the mapping was created."""


@dataclass(frozen=True)
class MappingConfig:
    """One event source mapping, from ListEventSourceMappings."""

    uuid: str
    function_arn: str
    source_arn: str
    enabled: bool
    batch_size: int
    window_s: float  # MaximumBatchingWindowInSeconds (declared; the pollers scale it)
    concurrency: int | None  # SQS: ScalingConfig.MaximumConcurrency (None: not capped by the mapping)
    report_failures: bool  # FunctionResponseTypes has ReportBatchItemFailures
    patterns: tuple[str, ...]  # FilterCriteria.Filters[].Pattern
    starting_position: str  # streams: TRIM_HORIZON | LATEST
    max_retries: int  # streams: MaximumRetryAttempts, -1 = until the record expires
    bisect: bool  # streams: BisectBatchOnFunctionError
    on_failure: str | None  # streams: DestinationConfig.OnFailure.Destination

    @property
    def service(self) -> str:
        return self.source_arn.split(":")[2]

    @classmethod
    def from_api(cls, entry: dict[str, Any]) -> MappingConfig:
        sqs = entry["EventSourceArn"].split(":")[2] == "sqs"
        return cls(
            uuid=entry["UUID"], function_arn=entry["FunctionArn"], source_arn=entry["EventSourceArn"],
            enabled=entry.get("State", "Enabled") == "Enabled",
            batch_size=int(entry.get("BatchSize") or (10 if sqs else 100)),
            window_s=float(entry.get("MaximumBatchingWindowInSeconds") or 0),
            concurrency=_concurrency(entry.get("ScalingConfig") or {}),
            report_failures="ReportBatchItemFailures" in (entry.get("FunctionResponseTypes") or []),
            patterns=tuple(f["Pattern"] for f in (entry.get("FilterCriteria") or {}).get("Filters", [])),
            starting_position=str(entry.get("StartingPosition") or "TRIM_HORIZON"),
            max_retries=int(entry["MaximumRetryAttempts"]) if entry.get("MaximumRetryAttempts") is not None else -1,
            bisect=str(entry.get("BisectBatchOnFunctionError", "false")).lower() == "true",
            on_failure=((entry.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"))


def _concurrency(scaling: dict[str, Any]) -> int | None:
    value = scaling.get("MaximumConcurrency")
    if value is None:
        return None
    if not MIN_CONCURRENCY <= int(value) <= MAX_CONCURRENCY:
        raise MappingConfigError(f"ScalingConfig.MaximumConcurrency {value} is outside "
                                 f"{MIN_CONCURRENCY}-{MAX_CONCURRENCY}")
    return int(value)


@dataclass
class MappingStats:
    """What one mapping did so far (a snapshot)."""

    invocations: int = 0
    function_errors: int = 0  # invocations that failed (an error, a timeout, or a response failing the batch)
    batches: int = 0  # batches formed from the source (a bisected or retried batch counts once)
    records_received: int = 0  # SQS messages received / stream records read
    records_filtered: int = 0  # dropped by FilterCriteria (an SQS message is deleted)
    messages_deleted: int = 0  # SQS: deleted after success (filtered ones not included)
    messages_returned: int = 0  # SQS: left to come back after their visibility timeout
    records_discarded: int = 0  # streams: retries exhausted (sent to the OnFailure destination, if any)
    in_flight: int = 0  # invocations running now
    peak_concurrency: int = 0  # most invocations running at once


class Counters:
    """Thread-safe `MappingStats`."""

    def __init__(self) -> None:
        self._stats = MappingStats()
        self._lock = threading.Lock()

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self._stats, name, getattr(self._stats, name) + delta)

    @contextmanager
    def invoking(self) -> Iterator[None]:
        with self._lock:
            self._stats.invocations += 1
            self._stats.in_flight += 1
            self._stats.peak_concurrency = max(self._stats.peak_concurrency, self._stats.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._stats.in_flight -= 1

    def snapshot(self) -> MappingStats:
        with self._lock:
            return dataclasses.replace(self._stats)


class RecordFilter:
    """A mapping's FilterCriteria; without filters every record passes."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = [EventPattern(raw, json.loads(raw)) for raw in patterns]

    def matches(self, record: dict[str, Any]) -> bool:
        return not self._patterns or any(pattern.matches_event(record) for pattern in self._patterns)  # type: ignore[arg-type]


def sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record as Lambda's filters see it: a JSON body as JSON."""
    try:
        return {**record, "body": json.loads(record["body"])}
    except ValueError:
        return record


def failed_items(payload: str | None, identifiers: Sequence[str]) -> list[str] | None:
    """The identifiers a partial batch response reports failed ([] = complete success); None = the whole batch
    failed (a malformed response)."""
    try:
        response = json.loads(payload) if payload else None
    except ValueError:
        return None
    if response is None:
        return []
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    known, failed = set(identifiers), []
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            return None
        failed.append(identifier)
    return failed
