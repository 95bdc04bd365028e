"""`faceswap list`: recent jobs from the jobs table, plus jobs rejected before they got a record."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from faceswap.layout import JOB_KEY_PREFIX, PARTITION_KEY, QUEUED, STATUS_NAME
from faceswap_cli.jobs import plain_item, read_json
from faceswap_cli.stack import Clients, StackInfo


@dataclass(frozen=True)
class JobSummary:
    job_id: str
    state: str
    created_at: str
    elapsed_seconds: float | None  # creation to the end (or to now while running)
    video_seconds: float | None
    units: int | None
    error_code: str | None = None
    waiting_for: str | None = None  # a QUEUED job: why it waits (no_free_slot, no_rate_token, breaker_open...)


def list_jobs(clients: Clients, stack: StackInfo, limit: int = 20) -> list[JobSummary]:
    """Most recent first: the jobs table, plus jobs rejected before they got a record (results/ only)."""
    summaries = {s.job_id: s for s in _from_table(clients, stack)}
    for job_id in _result_folders(clients, stack):
        if job_id not in summaries:
            doc = read_json(clients, stack, stack.result_key(job_id, STATUS_NAME)) or {}
            summaries[job_id] = JobSummary(job_id, str(doc.get("state", "?")), str(doc.get("written_at", "")),
                                           None, None, None, doc.get("error"))
    ordered = sorted(summaries.values(), key=lambda s: s.created_at, reverse=True)
    return ordered[:limit]


def _from_table(clients: Clients, stack: StackInfo) -> Iterator[JobSummary]:
    if not stack.jobs_table:
        return
    paginator = clients.dynamodb.get_paginator("scan")
    pages = paginator.paginate(TableName=stack.jobs_table, FilterExpression=f"begins_with({PARTITION_KEY}, :job)",
                               ExpressionAttributeValues={":job": {"S": JOB_KEY_PREFIX}})
    for page in pages:
        for item in page.get("Items", []):
            yield _summary(plain_item(item))


def _summary(record: dict[str, Any]) -> JobSummary:
    error = record.get("error")
    seconds = record.get("duration_seconds")
    return JobSummary(
        job_id=str(record.get("job_id", str(record[PARTITION_KEY]).removeprefix(JOB_KEY_PREFIX))),
        state=str(record.get("state", "?")), created_at=str(record.get("created_at", "")),
        elapsed_seconds=_elapsed(record.get("created_at"), record.get("finished_at")),
        video_seconds=float(seconds) if seconds not in (None, "") else None,
        units=int(record["units"]) if record.get("units") is not None else None,
        error_code=str(error.get("code")) if isinstance(error, dict) else None,
        waiting_for=_waiting_for(record))


def _waiting_for(record: dict[str, Any]) -> str | None:
    reason = record.get("queue_reason")
    return str(reason) if record.get("state") == QUEUED and reason else None


def _result_folders(clients: Clients, stack: StackInfo) -> Iterator[str]:
    paginator = clients.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=stack.bucket, Prefix=stack.results_prefix, Delimiter="/"):
        for prefix in page.get("CommonPrefixes", []):
            yield str(prefix["Prefix"])[len(stack.results_prefix):].rstrip("/")


def _elapsed(created: object, finished: object) -> float | None:
    if not created:
        return None
    start = _epoch(str(created))
    end = _epoch(str(finished)) if finished else time.time()
    return max(0.0, end - start)


def _epoch(iso: str) -> float:
    return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))
