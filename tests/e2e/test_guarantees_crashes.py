"""Guarantee: a start function that dies mid-way (timeout, out of memory) loses no job and never pays twice.

A crash cannot clean up after itself, so the claim it holds stays STARTING and its message is not deleted: SQS
delivers it again once its visibility timeout has passed (longer than the function can run), and the claim is then
older than the function can run, so the new delivery takes it over. Before the create-task call nothing was spent
and it goes on; after it, the task may exist and be billed, so it writes an error.json saying so instead of creating
a second task. A message whose every delivery crashed ends in the dead-letter queue; moved back to the start queue
(`aws sqs start-message-move-task`), it takes the abandoned claim over and the job runs.

The crash is real: the start function's timeout is lowered to 3 s (its claim lease to 4 s, the queue's visibility
timeout to 6 s, so each stays longer than the one before) and the emulator holds one answer back after doing the
work (`late_answer_seconds`), so the local runtime kills the worker as Lambda would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.eventually import eventually
from local.pipeline import JobView, LocalPipeline, function_environment
from tests.e2e.guarantees import (
    START,
    START_QUEUE,
    dead_letters,
    function_timeout,
    queue_url,
    spend,
    start_events_for,
    visibility_timeout,
    wait_for_job,
)
from tests.media import Media

FILE_ROUTE = "POST /s2s/v2.0/file"
TASK_ROUTE = "POST /s2s/v2.0/task"


@pytest.fixture
def crashing_start(pipeline: LocalPipeline) -> Iterator[LocalPipeline]:
    # No face pre-check here: a cold detector takes seconds of the 3 s, and these crashes are about the vendor calls.
    with function_timeout(pipeline, START, 3), \
            function_environment(pipeline, START, FACE_DETECTOR_FUNCTION="", START_TIMEOUT_SECONDS="4",
                                 ADMISSION_START_LEASE_SECONDS="4"), \
            visibility_timeout(pipeline, 6):
        yield pipeline


def test_a_crash_before_the_task_is_created_is_retried_and_the_job_completes(crashing_start: LocalPipeline,
                                                                            media: Media) -> None:
    # The first File API call answers after the function's 3 s timeout: that attempt dies while uploading.
    view, retry = _crash_once_then_retry(crashing_start, FILE_ROUTE, "g-crash-upload", media)

    assert view.execution_status == "SUCCEEDED" and view.output_key is not None
    assert retry["actions"] == ["started"]
    assert spend(crashing_start)["tasks_created"] == 1  # one task, created by the retry


def test_a_crash_while_the_task_is_created_is_reported_not_created_twice(crashing_start: LocalPipeline,
                                                                         media: Media) -> None:
    # The vendor creates (and bills) the task, but answers after the function's timeout: nobody records it.
    view, retry = _crash_once_then_retry(crashing_start, TASK_ROUTE, "g-crash-create", media)

    assert view.error is not None and view.error["code"] == "start_interrupted"
    assert "may exist and be billed" in view.error["message"]
    assert "vendor console" in view.error["what_to_fix"]
    assert view.status is not None and view.status["state"] == "FAILED"
    assert view.execution_status == "NONE"
    assert retry["actions"] == ["failed"]
    assert spend(crashing_start)["tasks_created"] == 1  # the crashed attempt's task only: never a second one


def test_a_job_whose_every_delivery_crashed_runs_when_its_dead_letter_is_moved_back(crashing_start: LocalPipeline,
                                                                                    media: Media) -> None:
    pipeline = crashing_start
    dead_letters(pipeline)  # start from an empty queue
    # Every delivery (the first and SQS's two more) dies while uploading: the message ends in the dead-letter queue
    # with the claim still held by the dead attempts.
    pipeline.emulator.set_faults(late_answer_seconds=6.0, late_answer_count=3, fault_route_prefix=FILE_ROUTE)
    job = pipeline.submit("g-crash-always", media.clip, media.face)
    (message,) = eventually(lambda: dead_letters(pipeline) or None, 120, what="a dead letter")
    assert message["Records"][0]["s3"]["object"]["key"] == f"jobs%2F{job}.json"  # S3's event, as it was sent
    assert [d["error"]["errorType"] for d in start_events_for(pipeline, f"jobs/{job}.json")] == ["Sandbox.Timedout"] * 3
    record = pipeline.job_record(job)
    assert record is not None and record["state"]["S"] == "STARTING"

    # Moved back to the start queue (what `aws sqs start-message-move-task` does), it takes the abandoned claim
    # over (older than the function can run), and since nothing was spent the job runs.
    pipeline.client("sqs").send_message(QueueUrl=queue_url(pipeline, START_QUEUE), MessageBody=json.dumps(message))
    view = wait_for_job(pipeline, job, timeout=60)

    assert view.execution_status == "SUCCEEDED" and view.output_key is not None
    assert spend(pipeline)["tasks_created"] == 1


def _crash_once_then_retry(pipeline: LocalPipeline, route: str, name: str,
                           media: Media) -> tuple[JobView, dict[str, Any]]:
    """The first call to `route` answers after the start function's 3 s timeout, so that attempt dies there; SQS
    delivers the same message again. Returns the job's end and the second delivery."""
    pipeline.emulator.set_faults(late_answer_seconds=6.0, late_answer_count=1, fault_route_prefix=route)
    job = pipeline.submit(name, media.clip, media.face)
    view = wait_for_job(pipeline, job, timeout=90)
    deliveries = start_events_for(pipeline, f"jobs/{job}.json")
    assert [d["error"]["errorType"] if d["error"] else "ok" for d in deliveries] == ["Sandbox.Timedout", "ok"]
    assert deliveries[0]["message_id"] == deliveries[1]["message_id"]  # the same message, delivered again
    assert [d["receive_count"] for d in deliveries] == [1, 2]
    return view, deliveries[1]
