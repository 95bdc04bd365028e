"""Structured logs: every JSON log record our handlers write while running a job names the job (job_id), and
the vendor task (task_id) from the moment it exists, so one filter in CloudWatch Logs Insights finds it all."""

from __future__ import annotations

import json
from typing import Any

from local.eventually import eventually
from local.pipeline import LocalPipeline
from tests.media import Media

HANDLERS = {"start_job", "check_status", "store_token", "webhook", "finalize", "record_failure",
            "execution_failed", "detect_faces"}
AFTER_TASK = {"check_status", "store_token", "webhook", "finalize"}


def _records(lines: list[str]) -> list[dict[str, Any]]:
    """Powertools log records (not the metrics' EMF blobs, not START/END lines) of our handlers."""
    records = []
    for line in lines:
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if "_aws" not in record and record.get("service") in HANDLERS and "level" in record:
            records.append(record)
    return records


def test_every_log_record_of_a_job_carries_job_id_and_task_id(pipeline: LocalPipeline, media: Media) -> None:
    pipeline.emulator.config.polling_interval_seconds = 1  # 0.05 s here: polls happen before the webhook
    runtime = pipeline.stack.runtime
    first_line = len(runtime.log_lines())
    job = pipeline.submit("structured-logs", media.clip, media.face)
    assert pipeline.wait_for_job(job, timeout=60).execution_status == "SUCCEEDED"
    pipeline.emulator.wait_for_webhooks(1, timeout=10)
    record = pipeline.job_record(job)
    assert record is not None
    task_id = record["task_id"]["S"]

    def every_function_logged() -> list[dict[str, Any]] | None:
        lines = _records(runtime.log_lines()[first_line:])
        services = {r["service"] for r in lines if r.get("job_id") == job}
        return lines if AFTER_TASK | {"start_job", "detect_faces"} <= services else None

    # The webhook's lines may trail the end of the execution a little.
    ours = eventually(every_function_logged, 10, what=f"log lines of {sorted(AFTER_TASK)}, start_job, detect_faces")
    # S3's test event (sent to the start queue when the stack's notifications are set up) belongs to no job.
    ours = [r for r in ours if r.get("detail") != "s3:TestEvent"]
    assert [r for r in ours if not r.get("job_id")] == []
    for r in ours:
        if r["job_id"] == job and r["service"] in AFTER_TASK:
            assert r.get("task_id") == task_id, r
    started = [r for r in ours if r["job_id"] == job and r["message"] == "job started"]
    assert started and started[0]["task_id"] == task_id
