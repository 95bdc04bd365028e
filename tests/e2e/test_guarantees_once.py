"""Guarantee: exactly one vendor task per job.

However often S3 delivers an upload's event — concurrently with the first delivery, while the job runs, after it
ended — the job gets one vendor task, one execution, and its units are spent once. The duplicates are copies of
real S3 events captured from the start function's invocations — S3's own event for the video upload pointed at
the manifest (fired while the manifest's own event is still racing for the claim), then S3's own event for the
manifest — delivered straight to the function with lambda.invoke (`Event` and `RequestResponse`, many threads).
Uploading a job name again is a new job only when the manifest asks for it with `"run": N` (job id
`<name>--run<N>`).
"""

from __future__ import annotations

from typing import Any

import pytest

from local.pipeline import LocalPipeline
from tests.e2e.guarantees import (
    dead_letters,
    executions_named,
    invoke_start,
    put_manifest,
    real_s3_event,
    spend,
    start_events_for,
    storm_size,
    upload_inputs,
    wait_for_job,
    with_key,
)
from tests.media import Media

DUPLICATES = storm_size(ci=100, full=500)


@pytest.mark.slow
def test_duplicate_events_create_one_task_one_execution_and_spend_once(pipeline: LocalPipeline,
                                                                       media: Media) -> None:
    video_key, face_key = upload_inputs(pipeline, media.clip, media.face)
    template = real_s3_event(pipeline, video_key)  # S3's own event for the video upload: same bucket and shape
    # The task takes long enough for the job to still run when the 1st storm is over (about 40 ms per copy here);
    # polls 3 s apart (locally) keep the poll limit well beyond it; the webhook ends the job when the task does.
    pipeline.emulator.set_faults(processing_delay_seconds=max(6.0, 0.08 * DUPLICATES))
    pipeline.emulator.config.polling_interval_seconds = 60
    job, key = "g-once", "jobs/g-once.json"

    # Storm 1: the manifest is uploaded and at once DUPLICATES copies of its event race S3's own delivery for the
    # claim, and go on arriving while the job runs.
    # No face pre-check: its second or so would let the storm end before the execution starts.
    put_manifest(pipeline, job, {"video": video_key, "face": face_key, "face_check": False})
    racing = invoke_start(pipeline, [with_key(template, key) for _ in range(DUPLICATES)])
    assert pipeline.execution_status(job) == "RUNNING"
    # Storm 2: S3's own delivery, captured from the function's invocations, again after the job ended.
    real = real_s3_event(pipeline, key)
    assert _target(real) == _target(with_key(template, key))  # what the function reads is the same
    view = wait_for_job(pipeline, job, timeout=60)
    after_end = invoke_start(pipeline, [real] * DUPLICATES)

    assert view.execution_status == "SUCCEEDED" and view.output_key == f"results/{job}/output.mp4"
    assert spend(pipeline) == {"files_created": 2, "tasks_created": 1, "units_charged": 1}
    assert len(executions_named(pipeline, job)) == 1
    assert pipeline.stack.event_sources.wait_idle(timeout=60)
    deliveries = start_events_for(pipeline, key)
    assert len(deliveries) == 1 + 2 * DUPLICATES  # every copy ran (none was lost or failed)...
    actions = [action for d in deliveries for action in d["actions"]]
    assert len(actions) == len(deliveries) and not any(d["error"] for d in deliveries)
    assert actions.count("started") == 1  # ...and exactly one of them started the job
    assert set(actions) <= {"started", "duplicate", "resumed"}
    assert set(racing) <= {"started", "duplicate", "resumed"}
    assert set(after_end) == {"duplicate"}
    assert dead_letters(pipeline) == []
    record = pipeline.job_record(job)
    assert record is not None and record["state"]["S"] == "SUCCEEDED" and record["units"]["N"] == "1"


def test_reupload_under_the_same_name_is_a_new_job_only_with_a_new_run(pipeline: LocalPipeline,
                                                                       media: Media) -> None:
    video_key, face_key = upload_inputs(pipeline, media.clip, media.face)
    other_face = "faces/other.png"
    pipeline.client("s3").upload_file(str(media.no_face_image), pipeline.bucket, other_face)
    first = wait_for_job(pipeline, pipeline.submit("g-rerun", media.clip, media.face), timeout=60)
    assert first.execution_status == "SUCCEEDED"

    # Same name, different content, no "run": ignored (and the start function's log says how to run it again).
    put_manifest(pipeline, "g-rerun", {"video": video_key, "face": other_face})
    assert pipeline.stack.event_sources.wait_idle(timeout=30)
    assert spend(pipeline)["tasks_created"] == 1
    record = pipeline.job_record("g-rerun")
    assert record is not None and record["face_key"]["S"] == face_key
    assert pipeline.view("g-rerun").status == first.status  # the first run's results are untouched
    assert any("upload ignored" in line and "g-rerun" in line for line in pipeline.stack.runtime.log_lines())

    # "run": 2 asks for it: a new job id, a new task, its own results.
    second = wait_for_job(pipeline, pipeline.submit("g-rerun", media.clip, media.face, run=2), timeout=60)
    assert second.job_id == "g-rerun--run2" and second.execution_status == "SUCCEEDED"
    assert second.status is not None and first.status is not None
    assert second.status["task_id"] != first.status["task_id"]
    assert spend(pipeline)["tasks_created"] == 2 and len(executions_named(pipeline, "g-rerun--run2")) == 1


def _target(event: dict[str, Any]) -> tuple[str, str]:
    s3 = event["Records"][0]["s3"]
    return s3["bucket"]["name"], s3["object"]["key"]

