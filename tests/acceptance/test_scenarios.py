"""What a user sees, on any stack: a swap that succeeds, a bad input, no face in the video, a duplicate manifest,
and a re-run with `"run": 2`.

The three independent jobs are submitted together at the start (on AWS they run side by side); the duplicate and
the re-run follow the swap. Assertions hold whether or not a job waits its turn first (QUEUED): only what a job
ends with is checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from faceswap import layout
from faceswap_cli import BadInput, JobResult, SubmittedJob, job_status, submit_job
from faceswap_cli.jobs import download_result
from tests.acceptance.conftest import Target
from tests.media import Media

# The start function's face pre-check says which input has no face; a stack deployed without it
# (faceswap:face_precheck=false) leaves it to the vendor, whose engine code is error_no_face.
NO_FACE_CODES = ("no_face_in_video", "error_no_face")
NOT_A_VIDEO = b"These are meeting notes, saved as clip.mp4 by mistake.\n" * 20


@dataclass
class Jobs:
    """The suite's jobs, submitted once; each result is waited for once."""

    target: Target
    swap: SubmittedJob
    no_face: SubmittedJob
    bad_input: str  # job id
    results: dict[str, JobResult] = field(default_factory=dict)

    def result(self, job_id: str) -> JobResult:
        if job_id not in self.results:
            self.results[job_id] = self.target.wait(job_id)
        return self.results[job_id]


@pytest.fixture(scope="module")
def jobs(target: Target, media: Media) -> Jobs:
    c, s = target.clients, target.stack
    swap = submit_job(c, s, media.clip, media.face, name=target.name("swap"))
    no_face = submit_job(c, s, media.no_face_video, media.face, name=target.name("no-face"))
    return Jobs(target, swap, no_face, _submit_behind_the_cli(target, target.name("bad-input"), media.face))


def _submit_behind_the_cli(target: Target, name: str, face: Path) -> str:
    """A file that is not a video, uploaded as one with another tool than the CLI (which would refuse it)."""
    s3, stack = target.clients.s3, target.stack
    video_key, face_key = f"{stack.videos_prefix}{name}/clip.mp4", f"{stack.faces_prefix}{name}/face.png"
    s3.put_object(Bucket=stack.bucket, Key=video_key, Body=NOT_A_VIDEO, ContentType="video/mp4")
    s3.upload_file(str(face), stack.bucket, face_key)
    manifest = json.dumps({"video": video_key, "face": face_key}).encode()
    s3.put_object(Bucket=stack.bucket, Key=stack.manifest_key(name), Body=manifest, ContentType="application/json")
    return layout.job_id(name)


def test_a_swap_succeeds_and_its_result_is_the_swapped_video(target: Target, jobs: Jobs, tmp_path: Path) -> None:
    result = jobs.result(jobs.swap.job_id)

    assert result.succeeded, result.error
    assert result.output_key == target.stack.result_key(jobs.swap.job_id, layout.OUTPUT_NAME)
    video = download_result(target.clients, target.stack, jobs.swap.job_id, tmp_path / "swapped.mp4")
    assert video.read_bytes()[4:8] == b"ftyp"  # an MP4
    status = job_status(target.clients, target.stack, jobs.swap.job_id)
    assert status.state == "SUCCEEDED" and status.error_doc is None
    assert status.status_doc is not None and status.status_doc["task_id"]
    assert status.status_doc["units"] == jobs.swap.units == 1  # a 3 s clip: one unit


def test_a_bad_input_is_refused_with_what_to_fix(target: Target, jobs: Jobs, tmp_path: Path) -> None:
    text = tmp_path / "clip.mp4"
    text.write_bytes(NOT_A_VIDEO)
    with pytest.raises(BadInput, match=r"clip\.mp4"):  # the CLI refuses it before uploading anything
        submit_job(target.clients, target.stack, text, text, name=target.name("refused"))
    assert _keys(target, f"{target.stack.videos_prefix}{target.name('refused')}") == []

    result = jobs.result(jobs.bad_input)  # uploaded behind the CLI's back: the pipeline refuses it
    assert result.execution_status == "NONE" and result.error is not None  # before any vendor call
    assert result.error["code"] == "unsupported_container"
    assert "not an MP4 or MOV video" in result.error["message"] and result.error["what_to_fix"]
    status = job_status(target.clients, target.stack, jobs.bad_input)
    assert status.state == "FAILED" and not (status.record or {}).get("task_id")


def test_no_face_in_the_video_fails_with_the_reason(target: Target, jobs: Jobs) -> None:
    result = jobs.result(jobs.no_face.job_id)

    assert not result.succeeded and result.output_key is None
    assert result.error is not None and result.error["code"] in NO_FACE_CODES, result.error
    assert result.error["what_to_fix"]
    assert job_status(target.clients, target.stack, jobs.no_face.job_id).state == "FAILED"


def test_a_duplicate_manifest_changes_nothing(target: Target, jobs: Jobs) -> None:
    """The same manifest uploaded again (a retried upload, a sync tool): no second task, the results untouched."""
    job_id = jobs.swap.job_id
    assert jobs.result(job_id).succeeded
    before, spent = _seen(target, job_id), _tasks_created(target)
    s3, stack = target.clients.s3, target.stack
    manifest = s3.get_object(Bucket=stack.bucket, Key=jobs.swap.manifest_key)["Body"].read()

    s3.put_object(Bucket=stack.bucket, Key=jobs.swap.manifest_key, Body=manifest, ContentType="application/json")
    target.settle()

    assert _seen(target, job_id) == before
    assert _tasks_created(target) == spent


def test_a_rerun_with_run_2_is_a_new_job_with_its_own_result(target: Target, jobs: Jobs, media: Media) -> None:
    first, c, s = jobs.swap, target.clients, target.stack
    assert jobs.result(first.job_id).succeeded
    before = _seen(target, first.job_id)
    with pytest.raises(BadInput, match="--run 2"):  # the same name again is refused, saying how to run it again
        submit_job(c, s, media.clip, media.face, name=first.name)

    again = submit_job(c, s, media.clip, media.face, name=first.name, run=2)
    result = jobs.result(again.job_id)

    assert again.job_id == f"{first.name}--run2" and result.succeeded, result.error
    assert result.output_key == s.result_key(again.job_id, layout.OUTPUT_NAME)
    rerun = _seen(target, again.job_id)
    assert rerun["task_id"] and rerun["task_id"] != before["task_id"]  # a task of its own
    assert _seen(target, first.job_id) == before  # the first run's results are untouched


def _seen(target: Target, job_id: str) -> dict[str, Any]:
    """What a user can read of a finished job: its state, task and units, status.json, and the result's ETag."""
    status = job_status(target.clients, target.stack, job_id)
    record = status.record or {}
    etag = target.clients.s3.head_object(Bucket=target.stack.bucket, Key=str(status.output_key))["ETag"]
    return {"state": status.state, "task_id": record.get("task_id"), "units": record.get("units"),
            "status": status.status_doc, "output_etag": etag}


def _tasks_created(target: Target) -> int | None:
    """The vendor's count of tasks created (the local emulator's; a deployed stack has no such counter)."""
    return int(target.local.emulator.stats()["tasks_created"]) if target.local else None


def _keys(target: Target, prefix: str) -> list[str]:
    listed = target.clients.s3.list_objects_v2(Bucket=target.stack.bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]
