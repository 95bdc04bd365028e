"""Guarantee: every bad input gets a clear error and spends nothing.

Each bad upload below ends in `results/<job>/error.json` naming what is wrong (`code`, `message` with the measured
value and the limit) and what to do (`what_to_fix`); no execution starts, and the vendor emulator sees no file, no
task and no unit. The checks read headers only (ranged reads), so the 101 MB video is a sparse file.

"No face" in the video or in the photo is found by the face pre-check (the detector function, OpenCV's Haar
cascade) before anything is uploaded, so it joins the list. Turned off for a job (`"face_check": false`), the vendor
finds it instead — after charging the video's units, as it did before the pre-check. A detector that fails lets the
job go on (fail open): it never loses a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.media import make_sparse_file
from local.pipeline import JobView, LocalPipeline, function_environment
from tests.e2e.guarantees import (
    invoke_start,
    put_manifest,
    real_s3_event,
    spend,
    upload_inputs,
    wait_for_job,
    wait_for_jobs,
    with_key,
)
from tests.media import Media

PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
DETECTOR = "PipelineIngestDetectFaces"


@dataclass(frozen=True)
class Case:
    job: str
    code: str
    says: str = ""  # a fragment the message must contain (the measured value or the limit)


CASES = [
    Case("g-in-missing-face", "missing_file", "faces/g-nope.png"),
    Case("g-in-missing-video", "missing_file", "videos/g-nope.mp4"),
    Case("g-in-not-json", "manifest_invalid"),
    Case("g-in-empty-manifest", "manifest_invalid"),
    Case("g-in-manifest-fields", "manifest_invalid", "face"),
    Case("g-in-gif-face", "wrong_file_type", ".gif"),
    Case("g-in-avi-video", "wrong_file_type", ".avi"),
    Case("g-in-png-as-mp4", "unsupported_container", "PNG"),
    Case("g-in-mp4-as-png", "unsupported_image_type"),
    Case("g-in-over-100mb", "video_too_large", "100 MB"),
    Case("g-in-over-30s", "video_too_long", "30 s"),
    Case("g-in-4k", "video_resolution_too_high", "4096x2160"),
    Case("g-in-60fps", "video_fps_too_high", "30"),
    Case("g-in-image-over-10mb", "image_too_large", "10 MB"),
    Case("g-in-empty-video", "empty_file", "0 bytes"),
    Case("g-in-empty-face", "empty_file", "0 bytes"),
    Case("g-in-outside-prefix", "key_outside_prefix", "videos/"),
    Case("g-in-dot-dot", "key_outside_prefix", "videos/"),
    Case("g-in-nested", "manifest_key_invalid", "jobs/"),  # jobs/deeper/g-in-nested.json
    Case("g-in-no-face-video", "no_face_in_video", "videos/g-no-face.mp4"),  # the face pre-check (OpenCV)
    Case("g-in-no-face-photo", "no_face_in_photo", "faces/g-no-face.png"),
    Case("g-in-stray-key", "key_outside_prefix", "private/g-in-stray-key.mp4"),  # an event for a key S3 never
]                                                                                  # routes to us, delivered anyway


@dataclass(frozen=True)
class Rejections:
    views: dict[str, JobView]
    spent: dict[str, int]


@pytest.fixture(scope="module")
def rejections(local_pipeline: LocalPipeline, media: Media, tmp_path_factory: pytest.TempPathFactory) -> Rejections:
    """Every bad upload at once, against a fresh emulator; the views once each has its error.json."""
    pipeline, root = local_pipeline, tmp_path_factory.mktemp("bad-inputs")
    pipeline.emulator.reset()
    video, face = upload_inputs(pipeline, media.clip, media.face)
    template = real_s3_event(pipeline, video)
    for key, path in _bad_files(media, root).items():
        pipeline.client("s3").upload_file(str(path), pipeline.bucket, key)
    for name, manifest in _manifests(video, face).items():
        put_manifest(pipeline, name, manifest)
    invoke_start(pipeline, [with_key(template, "private/g-in-stray-key.mp4")])
    views = wait_for_jobs(pipeline, [case.job for case in CASES], timeout=90)
    assert pipeline.stack.event_sources.wait_idle(timeout=30), pipeline.stack.event_sources.describe()
    spent = spend(pipeline)
    pipeline.client("s3").delete_object(Bucket=pipeline.bucket, Key="videos/g-huge.mp4")  # 101 MB of moto memory
    return Rejections(views, spent)


@pytest.mark.parametrize("case", CASES, ids=[c.job for c in CASES])
def test_bad_input_ends_in_an_error_json_that_says_what_to_fix(rejections: Rejections, case: Case) -> None:
    view = rejections.views[case.job]
    assert view.execution_status == "NONE"  # nothing started
    assert view.error is not None, view
    error: dict[str, Any] = view.error
    assert (error["code"], error["state"], error["job_id"]) == (case.code, "FAILED", case.job)
    assert case.says in error["message"], error["message"]
    assert len(error["what_to_fix"]) > 20 and error["what_to_fix"] not in error["message"]
    assert view.status is not None and view.status["error"] == case.code  # status.json says FAILED too
    assert view.output_key is None


def test_bad_inputs_spend_nothing(rejections: Rejections) -> None:
    assert rejections.spent == {"files_created": 0, "tasks_created": 0, "units_charged": 0}


def test_no_face_is_found_by_the_detector_function_before_the_vendor(rejections: Rejections,
                                                                      local_pipeline: LocalPipeline) -> None:
    detector = local_pipeline.stack.function_name(DETECTOR)
    answers = {i.event["video_key"]: i.result for i in local_pipeline.stack.runtime.invocations
               if i.function_name == detector and i.event.get("video_key") == "videos/g-no-face.mp4"}
    assert answers == {"videos/g-no-face.mp4": {"frames_checked": 8, "frames_with_face": 0, "photo_has_face": True}}
    assert "8 frames checked" in rejections.views["g-in-no-face-video"].error["message"]  # type: ignore[index]


def test_with_the_face_check_off_the_vendor_finds_no_face_and_spends_its_units(pipeline: LocalPipeline,
                                                                              media: Media) -> None:
    video, face = upload_inputs(pipeline, media.no_face_video, media.face)
    put_manifest(pipeline, "g-in-no-face-unchecked", {"video": video, "face": face, "face_check": False})
    view = wait_for_job(pipeline, "g-in-no-face-unchecked")

    assert view.execution_status == "FAILED"
    assert view.error is not None and view.error["vendor_code"] == "error_no_face"
    assert "face" in view.error["what_to_fix"].lower()
    assert view.status is not None and view.status["units"] == 1  # the record says what it cost...
    assert spend(pipeline)["units_charged"] == 1  # ...which is what the vendor charged


def test_a_detector_that_fails_never_loses_the_job(pipeline: LocalPipeline, media: Media) -> None:
    """Fail open: the detector cannot read S3 (every call of its own fails), the job goes on to the vendor."""
    with function_environment(pipeline, DETECTOR, AWS_ENDPOINT_URL_S3="http://127.0.0.1:9"):
        view = wait_for_job(pipeline, pipeline.submit("g-in-detector-down", media.clip, media.face))

    assert view.execution_status == "SUCCEEDED" and view.output_key is not None
    detector = pipeline.stack.function_name(DETECTOR)
    failed = [i for i in pipeline.stack.runtime.invocations if i.function_name == detector and i.error is not None]
    assert failed and failed[-1].event["video_key"] == f"videos/{media.clip.name}"
    assert any("face pre-check unavailable" in line for line in pipeline.stack.runtime.log_lines())


# --- the bad uploads ------------------------------------------------------------------------------------------------
def _bad_files(media: Media, root: Path) -> dict[str, Path]:
    png, mp4 = media.face.read_bytes(), media.clip.read_bytes()
    huge_png = make_sparse_file(root / "huge.png", 10_500_000, png[: -len(PNG_END)])
    with huge_png.open("r+b") as handle:  # a PNG ends with IEND: the header check reads both ends
        handle.seek(10_500_000 - len(PNG_END))
        handle.write(PNG_END)
    files = {
        "videos/g-huge.mp4": make_sparse_file(root / "huge.mp4", 101_000_000, mp4),
        "videos/g-long.mp4": media.video(seconds=31, fps=5, size=(160, 90)),
        "videos/g-4k.mp4": media.video(seconds=0.2, fps=10, size=(4096, 2160)),
        "videos/g-60fps.mp4": media.video(seconds=1, fps=60, size=(160, 90)),
        "videos/g-png.mp4": media.face,
        "faces/g-video.png": media.clip,
        "faces/g-huge.png": huge_png,
        "videos/g-empty.mp4": _empty(root / "empty.mp4"),
        "faces/g-empty.png": _empty(root / "empty.png"),
        "videos/g-clip.avi": media.clip,
        "faces/g-face.gif": media.face,
        "videos/g-no-face.mp4": media.no_face_video,
        "faces/g-no-face.png": media.no_face_image,
    }
    return files


def _manifests(video: str, face: str) -> dict[str, dict[str, Any] | bytes]:
    def job(v: str = video, f: str = face) -> dict[str, Any]:
        return {"video": v, "face": f}

    return {
        "g-in-missing-face": job(f="faces/g-nope.png"),
        "g-in-missing-video": job(v="videos/g-nope.mp4"),
        "g-in-not-json": b"{this is not json",
        "g-in-empty-manifest": b"",
        "g-in-manifest-fields": {"video": video, "fcae": face},
        "g-in-gif-face": job(f="faces/g-face.gif"),
        "g-in-avi-video": job(v="videos/g-clip.avi"),
        "g-in-png-as-mp4": job(v="videos/g-png.mp4"),
        "g-in-mp4-as-png": job(f="faces/g-video.png"),
        "g-in-over-100mb": job(v="videos/g-huge.mp4"),
        "g-in-over-30s": job(v="videos/g-long.mp4"),
        "g-in-4k": job(v="videos/g-4k.mp4"),
        "g-in-60fps": job(v="videos/g-60fps.mp4"),
        "g-in-image-over-10mb": job(f="faces/g-huge.png"),
        "g-in-empty-video": job(v="videos/g-empty.mp4"),
        "g-in-empty-face": job(f="faces/g-empty.png"),
        "g-in-outside-prefix": job(v="uploads/clip.mp4"),
        "g-in-dot-dot": job(v="videos/../private/clip.mp4"),
        "deeper/g-in-nested": job(),
        "g-in-no-face-video": job(v="videos/g-no-face.mp4"),
        "g-in-no-face-photo": job(f="faces/g-no-face.png"),
    }


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path
