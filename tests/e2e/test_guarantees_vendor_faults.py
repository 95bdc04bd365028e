"""Guarantee: vendor faults are survived.

With 30 % of vendor calls answering 429 or 503 and every answer slow, every job of a batch still completes with its
own result; with every webhook dropped, polling alone finishes every job; a task that never finishes ends at the
poll limit with an error record, not a hang. (The run timeout is proven in test_guarantees_failures.py.)

Creating a task is the one call that is not idempotent: a 5xx there may or may not have created (and billed) a task.
By default it is not retried and the job ends with `task_create_uncertain`; a deployment that prefers retries sets
`faceswap:retry_create_on_server_error=true` — the batch below runs with it, which is what makes a 5xx on creation
survivable. 429s are always retried (the vendor did no work).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from local.eventually import eventually
from local.pipeline import LocalPipeline, function_environment
from tests.e2e.guarantees import (
    START,
    spend,
    storm_size,
    upload_inputs,
    wait_for_job,
    wait_for_jobs,
)
from tests.media import Media

BATCH = storm_size(ci=20, full=40)
DROPPED_BATCH = storm_size(ci=6, full=20)
TASK_ROUTE = "POST /s2s/v2.0/task/face-swap-vid"


@pytest.mark.slow
def test_every_job_of_a_batch_completes_with_its_own_result_despite_429_5xx_and_slow_answers(
        pipeline: LocalPipeline, media: Media) -> None:
    # Two different small videos (frames: 25 and 50), so that "its own result" is visible in the output.
    clips = {kind: (media.video(seconds=seconds, size=(320, 180)), 25 * seconds)
             for kind, seconds in (("short", 1), ("long", 2))}
    keys = {kind: upload_inputs(pipeline, video, media.face) for kind, (video, _) in clips.items()}
    # Webhooks end these jobs; a long polling_interval (3 s locally) keeps 20 concurrent polling loops within
    # what 4 local workers per function serve (on AWS, Lambda concurrency absorbs them).
    pipeline.emulator.config.polling_interval_seconds = 60
    pipeline.emulator.set_faults(rate_429=0.15, rate_5xx=0.15, status_5xx=503, slow_seconds=0.1)
    with function_environment(pipeline, START, YOUCAM_RETRY_CREATE_ON_SERVER_ERROR="true"):
        jobs = {f"g-batch-{i:02d}": "long" if i % 2 else "short" for i in range(BATCH)}
        s3 = pipeline.client("s3")
        for job, kind in jobs.items():
            video_key, face_key = keys[kind]
            s3.put_object(Bucket=pipeline.bucket, Key=f"jobs/{job}.json",
                          Body=f'{{"video": "{video_key}", "face": "{face_key}"}}'.encode())
        views = wait_for_jobs(pipeline, list(jobs), timeout=60 + 6 * BATCH)

    stats = pipeline.emulator.stats()
    tasks = {t["task_id"]: t for t in stats["tasks"]}
    for job, view in views.items():
        assert view.execution_status == "SUCCEEDED", (job, view)
        assert view.status is not None and view.output_key is not None
        task = tasks[view.status["task_id"]]
        assert task["details"]["frames"] == clips[jobs[job]][1], job  # the swap of this job's own video...
        assert _bytes(pipeline, view.output_key) == Path(pipeline.emulator.result_file(task["task_id"])).read_bytes()
    assert len({v.status["task_id"] for v in views.values() if v.status}) == BATCH  # ...one task each
    assert stats["tasks_created"] == BATCH and stats["units_charged"] == BATCH
    faults = _answers(stats)
    assert faults["429"] > 0 and faults["503"] > 0, faults  # the faults really happened, and were survived


@pytest.mark.slow
def test_polling_alone_finishes_every_job_when_every_webhook_is_dropped(pipeline: LocalPipeline,
                                                                        media: Media) -> None:
    video_key, face_key = upload_inputs(pipeline, media.video(seconds=1, size=(320, 180)), media.face)
    pipeline.emulator.config.polling_interval_seconds = 10  # 0.5 s locally
    pipeline.emulator.set_faults(webhook_drop=True)
    jobs = [f"g-nohook-{i:02d}" for i in range(DROPPED_BATCH)]
    s3 = pipeline.client("s3")
    for job in jobs:
        s3.put_object(Bucket=pipeline.bucket, Key=f"jobs/{job}.json",
                      Body=f'{{"video": "{video_key}", "face": "{face_key}"}}'.encode())
    views = wait_for_jobs(pipeline, jobs, timeout=60 + 5 * DROPPED_BATCH)

    for job, view in views.items():
        assert view.execution_status == "SUCCEEDED" and view.output_key, (job, view)
        assert pipeline.ended_by(job) == "polling"
    assert pipeline.emulator.stats()["webhooks_dropped"] == DROPPED_BATCH


def test_a_task_that_never_finishes_ends_at_the_poll_limit_with_an_error_record(pipeline: LocalPipeline,
                                                                                media: Media) -> None:
    pipeline.emulator.set_faults(never_finish=True)
    pipeline.emulator.config.polling_interval_seconds = 1  # 40 polls (LOCAL_TEST_CONTEXT max_polls) of 0.05 s
    job = pipeline.submit("g-never-finishes", media.clip, media.face)
    view = wait_for_job(pipeline, job, timeout=60)

    assert view.execution_status == "FAILED"
    assert view.error is not None and view.error["code"] == "poll_limit_reached"
    assert "max_polls" in view.error["what_to_fix"]
    assert pipeline.entered_states(job).count("Check task status") == 40
    record = pipeline.job_record(job)
    assert record is not None and record["state"]["S"] == "FAILED"


def test_a_5xx_on_task_creation_is_not_retried_by_default_and_says_what_to_check(pipeline: LocalPipeline,
                                                                                 media: Media) -> None:
    pipeline.emulator.set_faults(fault_route_prefix="POST /s2s/v2.0/task", rate_5xx=1.0, status_5xx=500)
    job = pipeline.submit("g-create-5xx", media.clip, media.face)
    view = wait_for_job(pipeline, job, timeout=30)

    assert view.execution_status == "NONE" and view.error is not None
    assert view.error["code"] == "task_create_uncertain" and view.error["vendor_code"] == "ServerError"
    assert "vendor console" in view.error["what_to_fix"]
    stats = pipeline.emulator.stats()
    assert stats["responses"][TASK_ROUTE] == {"500": 1}  # one attempt: a retry could have billed a second task
    assert spend(pipeline)["tasks_created"] == 0


def test_with_retry_create_on_server_error_a_failing_create_waits_in_the_queue_and_creates_once(
        pipeline: LocalPipeline, media: Media) -> None:
    """Deployed with faceswap:retry_create_on_server_error (a 5xx means "not created"), a create that keeps failing
    is back-pressure like a 429: the job waits in the queue, then completes when the vendor recovers."""
    pipeline.emulator.set_faults(fault_route_prefix="POST /s2s/v2.0/task", rate_5xx=1.0, status_5xx=503)
    with function_environment(pipeline, START, YOUCAM_RETRY_CREATE_ON_SERVER_ERROR="true"):
        job = pipeline.submit("g-create-5xx-opt-in", media.clip, media.face)
        eventually(lambda: _state(pipeline, job) == "QUEUED" or None, 30, what="the job waiting in the queue")
        pipeline.emulator.set_faults(rate_5xx=0.0)  # the vendor recovers
        view = wait_for_job(pipeline, job, timeout=60)

    assert view.execution_status == "SUCCEEDED" and view.output_key is not None
    assert pipeline.emulator.stats()["responses"][TASK_ROUTE]["503"] >= 2  # the client's retry, then the queue's
    assert spend(pipeline)["tasks_created"] == 1


def _state(pipeline: LocalPipeline, job: str) -> str | None:
    record = pipeline.job_record(job)
    return None if record is None else str(record["state"]["S"])


def _answers(stats: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for by_status in stats["responses"].values():
        counts.update(by_status)
    return counts


def _bytes(pipeline: LocalPipeline, key: str) -> bytes:
    return bytes(pipeline.client("s3").get_object(Bucket=pipeline.bucket, Key=key)["Body"].read())
