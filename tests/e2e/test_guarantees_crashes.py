"""Guarantee: a start function that dies mid-way (timeout, out of memory) loses no job and never pays twice.

A crash cannot clean up after itself, so the claim it holds stays STARTING. Lambda retries the event with the same
request id, which the claim remembers: the retry knows that its own earlier attempt died. Before the create-task
call nothing was spent and the retry starts over; after it, the task may exist and be billed, so the retry
writes an error.json saying so instead of creating a second task.

The crash is real: the start function's timeout is lowered to 3 s and the emulator holds one answer back after
doing the work (`late_answer_seconds`), so the local runtime kills the worker as Lambda would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.eventually import eventually
from local.pipeline import JobView, LocalPipeline
from tests.e2e.guarantees import (
    START,
    dead_letters,
    function_environment,
    function_timeout,
    spend,
    start_events_for,
    wait_for_job,
)
from tests.media import Media

FILE_ROUTE = "POST /s2s/v2.0/file"
TASK_ROUTE = "POST /s2s/v2.0/task"


@pytest.fixture
def crashing_start(pipeline: LocalPipeline) -> Iterator[LocalPipeline]:
    # No face pre-check here: a cold detector takes seconds of the 3 s, and these crashes are about the vendor calls.
    # Local retries come after 0.5 s and 1 s, not Lambda's 1 and 2 minutes: a same-id delivery is a retry at once.
    with function_timeout(pipeline, START, 3), function_environment(pipeline, START, FACE_DETECTOR_FUNCTION="",
                                                                    RETRY_MIN_AGE_SECONDS="0"):
        yield pipeline


def test_a_crash_before_the_task_is_created_is_retried_and_the_job_completes(crashing_start: LocalPipeline,
                                                                            media: Media) -> None:
    # The first File API call answers after the function's 3 s timeout: that attempt dies while uploading.
    view, retry = _crash_once_then_retry(crashing_start, FILE_ROUTE, "g-crash-upload", media)

    assert view.execution_status == "SUCCEEDED" and view.output_key is not None
    assert retry["result"]["outcomes"][0]["action"] == "started"
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
    assert retry["result"]["outcomes"][0]["action"] == "failed"
    assert spend(crashing_start)["tasks_created"] == 1  # the crashed attempt's task only: never a second one


def test_a_job_whose_every_attempt_crashed_runs_when_its_dead_letter_is_replayed(crashing_start: LocalPipeline,
                                                                                 media: Media) -> None:
    pipeline = crashing_start
    dead_letters(pipeline)  # start from an empty queue
    # Every attempt (the first and Lambda's two retries) dies while uploading: the event ends in the DLQ with
    # the claim still held by the dead attempts.
    pipeline.emulator.set_faults(late_answer_seconds=6.0, late_answer_count=3, fault_route_prefix=FILE_ROUTE)
    job = pipeline.submit("g-crash-always", media.clip, media.face)
    (message,) = eventually(lambda: dead_letters(pipeline) or None, 90, what="a dead letter")
    assert message["responsePayload"]["errorType"] == "Sandbox.Timedout"
    record = pipeline.job_record(job)
    assert record is not None and record["state"]["S"] == "STARTING"

    # The S3 event alone, replayed now, is a duplicate: the claim's holder might still be alive (its lease is the
    # function's timeout + 60 s). Nothing happens, and nothing is lost: the job is still STARTING.
    assert _start_now(pipeline, message["requestPayload"])["outcomes"][0]["action"] == "duplicate"
    # The dead letter replayed as is names the attempts that ended (requestContext.requestId): the replay takes
    # the abandoned claim over at once, since nothing was spent, and the job runs.
    assert _start_now(pipeline, message)["outcomes"][0]["action"] == "started"
    view = wait_for_job(pipeline, job, timeout=60)

    assert view.execution_status == "SUCCEEDED" and view.output_key is not None
    assert spend(pipeline)["tasks_created"] == 1


def _start_now(pipeline: LocalPipeline, event: dict[str, Any]) -> dict[str, Any]:
    """One synchronous invocation of the start function, as an operator replaying a dead letter would."""
    answer = pipeline.client("lambda").invoke(FunctionName=pipeline.stack.function_name(START),
                                              Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return dict(payload)




def _crash_once_then_retry(pipeline: LocalPipeline, route: str, name: str,
                           media: Media) -> tuple[JobView, dict[str, Any]]:
    """The first call to `route` answers after the start function's 3 s timeout, so that attempt dies there; Lambda
    retries the same event (same request id). Returns the job's end and the retry's record."""
    pipeline.emulator.set_faults(late_answer_seconds=6.0, late_answer_count=1, fault_route_prefix=route)
    job = pipeline.submit(name, media.clip, media.face)
    view = wait_for_job(pipeline, job, timeout=90)
    attempts = start_events_for(pipeline, f"jobs/{job}.json")
    assert [a["error"]["errorType"] if a["error"] else "ok" for a in attempts] == ["Sandbox.Timedout", "ok"]
    assert attempts[0]["request_id"] == attempts[1]["request_id"]  # Lambda's retry of the same event
    return view, attempts[1]
