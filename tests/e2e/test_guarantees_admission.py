"""Guarantee: a burst of uploads never fails because of the vendor's limits (issue 11).

The start function admits a job only when a slot (faceswap:max_tasks_in_flight), a create token
(faceswap:max_creates_per_second) and the credit for it are there; otherwise the job waits in the start queue
(QUEUED in status.json) and starts as soon as they are. A vendor 429 is back-pressure: the job goes back to the
queue after Retry-After, and repeated 429s open a breaker that slows every start. Credit is checked before anything
is uploaded. What the vendor saw is read from the emulator's own records: running tasks over time, files
registered per name, tasks and units.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local.eventually import eventually
from local.pipeline import LocalPipeline, function_environment
from tests.e2e.guarantees import (
    START,
    dead_letters,
    put_manifest,
    spend,
    storm_size,
    upload_inputs,
    wait_for_job,
    wait_for_jobs,
)
from tests.media import Media

BURST = storm_size(ci=40, full=120)
CAP = 3
# Locally the start queue runs in real time: waiting jobs re-check within a second or two, slot hold times start
# from a guess of a few seconds (a local task takes about as long), the breaker opens for seconds, not minutes.
FAST_ADMISSION = {"MIN_RECHECK_SECONDS": "1", "ADMISSION_INITIAL_HOLD_SECONDS": "3", "BREAKER_BACKOFF_SECONDS": "2",
                  "BREAKER_MAX_BACKOFF_SECONDS": "4", "FACE_DETECTOR_FUNCTION": ""}


@pytest.fixture
def admitting(pipeline: LocalPipeline) -> Iterator[LocalPipeline]:
    """The stack with room for CAP vendor tasks at once (faceswap:max_tasks_in_flight), as a deployment sets it."""
    with function_environment(pipeline, START, MAX_TASKS_IN_FLIGHT=str(CAP), **FAST_ADMISSION):
        yield pipeline


@pytest.fixture
def small_clip(media: Media) -> Path:
    return media.video(seconds=2, size=(320, 180))


def test_a_burst_runs_within_the_vendors_cap_and_every_job_completes(admitting: LocalPipeline,
                                                                    small_clip: Path, media: Media) -> None:
    pipeline = admitting
    # The vendor itself allows CAP running tasks and one create a second: beyond either it answers 429.
    pipeline.emulator.set_faults(max_running_tasks=CAP, create_rate_per_second=1.0, create_burst=1)
    jobs = _submit_at_once(pipeline, [f"g-burst-{i:03d}" for i in range(BURST)], small_clip, media.face)

    views = wait_for_jobs(pipeline, jobs, timeout=60 + 6 * BURST)

    assert {job: view.execution_status for job, view in views.items()} == {job: "SUCCEEDED" for job in jobs}
    assert all(view.output_key and view.error is None for view in views.values())
    stats = pipeline.emulator.stats()
    assert stats["running_max"] <= CAP  # the vendor never ran more than the cap...
    assert stats["throttled"].get("running_cap", 0) == 0  # ...because none was even asked to: admission held them
    assert stats["registrations_by_name"] == {name: 1 for job in jobs for name in _file_names(job)}  # uploaded once
    assert stats["tasks_created"] == BURST and sorted(stats["units_by_task"].values()) == [1] * BURST  # charged once
    assert dead_letters(pipeline) == []
    queued = [job for job in jobs if "queued_since" in (pipeline.job_record(job) or {})]
    # Most waited in the queue, visibly; a job that arrived when a slot was free (and no waiting job claimed it)
    # took it at once.
    assert len(queued) >= BURST // 2, len(queued)
    # Jobs near the front uploaded their inputs while they waited (once: see the registrations above), so that the
    # slot they got went straight to the create call.
    assert any(_uploaded_before_admission(pipeline.job_record(job) or {}) for job in queued)


def test_a_vendor_that_pushes_back_delays_jobs_but_fails_none(admitting: LocalPipeline, small_clip: Path,
                                                             media: Media) -> None:
    pipeline = admitting
    pipeline.emulator.set_faults(rate_429=1.0)  # every vendor call answers 429 "Too many requests"
    jobs = _submit_at_once(pipeline, [f"g-pushback-{i}" for i in range(10)], small_clip, media.face)

    # Each job waits, visibly: QUEUED in status.json, with since when and why; the breaker opened.
    statuses = eventually(lambda: _all_queued(pipeline, jobs), 60, what="every job QUEUED")
    assert all(s["queued_since"] and s["queue_reason"] for s in statuses)
    eventually(lambda: any(_reason(pipeline, job) == "breaker_open" for job in jobs), 60, what="the breaker open")
    time.sleep(5)  # the vendor stays down a while longer
    assert spend(pipeline)["tasks_created"] == 0
    pipeline.emulator.set_faults(rate_429=0.0)

    views = wait_for_jobs(pipeline, jobs, timeout=120)
    assert {view.execution_status for view in views.values()} == {"SUCCEEDED"}
    assert dead_letters(pipeline) == [] and not any(view.error for view in views.values())
    stats = pipeline.emulator.stats()
    assert stats["tasks_created"] == 10 and set(stats["registrations_by_name"].values()) == {1}


def test_jobs_the_balance_cannot_pay_for_end_with_credit_insufficient_and_spend_nothing(
        admitting: LocalPipeline, small_clip: Path, media: Media) -> None:
    pipeline = admitting
    pipeline.emulator.set_faults(credit_units=5.0)  # a 2 s clip costs 1 unit: enough for 5 jobs
    with function_environment(pipeline, START, CREDIT_WAIT_SECONDS="3", CREDIT_CACHE_SECONDS="1"):
        jobs = _submit_at_once(pipeline, [f"g-credit-{i}" for i in range(8)], small_clip, media.face)
        views = wait_for_jobs(pipeline, jobs, timeout=120)

    succeeded = [job for job, view in views.items() if view.execution_status == "SUCCEEDED"]
    refused = {job: view.error for job, view in views.items() if view.error}
    assert len(succeeded) == 5 and len(refused) == 3
    for error in refused.values():
        assert error is not None and error["code"] == "credit_insufficient" and "YouCam console" in error["what_to_fix"]
    stats = pipeline.emulator.stats()
    assert (stats["tasks_created"], stats["units_charged"]) == (5, 5)
    # Checked before anything was uploaded: the refused jobs' files never reached the vendor.
    assert not {name for job in refused for name in _file_names(job)} & set(stats["registrations_by_name"])


def test_a_job_that_waits_longer_than_allowed_ends_with_what_to_fix(admitting: LocalPipeline, small_clip: Path,
                                                                    media: Media) -> None:
    pipeline = admitting
    pipeline.emulator.set_faults(rate_429=1.0)
    with function_environment(pipeline, START, MAX_QUEUE_WAIT_SECONDS="4"):
        (job,) = _submit_at_once(pipeline, ["g-waited-too-long"], small_clip, media.face)
        view = wait_for_job(pipeline, job, timeout=60)

    assert view.error is not None and view.error["code"] == "queue_wait_exceeded"
    assert "max_queue_wait_minutes" in view.error["what_to_fix"]
    assert spend(pipeline) == {"files_created": 0, "tasks_created": 0, "units_charged": 0}


def test_a_slot_is_freed_when_its_job_is_stopped(pipeline: LocalPipeline, small_clip: Path, media: Media) -> None:
    with function_environment(pipeline, START, MAX_TASKS_IN_FLIGHT="1", **FAST_ADMISSION):
        pipeline.emulator.set_faults(never_finish=True)
        (first,) = _submit_at_once(pipeline, ["g-slot-holder"], small_clip, media.face)
        eventually(lambda: pipeline.execution_status(first) == "RUNNING", 30, what="the first job running")
        (second,) = _submit_at_once(pipeline, ["g-slot-waiter"], small_clip, media.face)
        eventually(lambda: _reason(pipeline, second) == "no_free_slot", 30, what="the second job waiting")
        pipeline.emulator.set_faults(never_finish=False)

        # The first job is stopped: the execution-failed rule records it and gives its slot back.
        pipeline.client("stepfunctions").stop_execution(executionArn=pipeline.execution_arn(first))
        second_view = wait_for_job(pipeline, second, timeout=60)

    assert wait_for_job(pipeline, first).error is not None
    assert second_view.execution_status == "SUCCEEDED"


def _submit_at_once(pipeline: LocalPipeline, names: list[str], video: Path, face: Path) -> list[str]:
    """Each job's own files (the vendor's records tell them apart by name), then all the manifests at once."""
    for name in names:
        video_name, face_name = _file_names(name)
        upload_inputs(pipeline, video, face, f"videos/{video_name}", f"faces/{face_name}")
    manifests = {name: {"video": f"videos/{_file_names(name)[0]}", "face": f"faces/{_file_names(name)[1]}",
                        "face_check": False} for name in names}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: put_manifest(pipeline, *item), manifests.items()))
    return names


def _file_names(job: str) -> tuple[str, str]:
    return f"{job}.mp4", f"{job}.png"


def _all_queued(pipeline: LocalPipeline, jobs: list[str]) -> list[dict[str, Any]] | None:
    statuses = [pipeline.read_json(f"results/{job}/status.json") for job in jobs]
    return [s for s in statuses if s] if all(s and s["state"] == "QUEUED" for s in statuses) else None


def _uploaded_before_admission(record: dict[str, Any]) -> bool:
    files, admitted = record.get("vendor_files", {}).get("M"), record.get("admitted_epoch", {}).get("N")
    return bool(files and admitted) and int(files["uploaded_epoch"]["N"]) < int(admitted)


def _reason(pipeline: LocalPipeline, job: str) -> str | None:
    record = pipeline.job_record(job) or {}
    return record.get("queue_reason", {}).get("S") if record.get("state", {}).get("S") == "QUEUED" else None

