"""How an uploaded object becomes a job (faceswap.jobs), without AWS: the manifest jobs/<name>.json, a video with
`face-key` metadata, and every way either is refused with a code and a fix the user reads in error.json."""

from __future__ import annotations

import json

import pytest

from faceswap import layout
from faceswap.config import PipelineSettings
from faceswap.errors import JobRejected
from faceswap.jobs import MAX_MANIFEST_BYTES, JobSpec, job_from_manifest, job_from_video, job_name_from_key

SETTINGS = PipelineSettings(bucket="media", jobs_table="jobs", api_key_secret_arn="arn")


def _manifest(key: str = "jobs/holiday.json", settings: PipelineSettings = SETTINGS, **body: object) -> JobSpec:
    content = {"video": "videos/clip.mp4", "face": "faces/me.jpg", **body}
    return job_from_manifest(key, json.dumps(content).encode(), settings)


def _rejected(call: object, *args: object, **kwargs: object) -> JobRejected:
    with pytest.raises(JobRejected) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.message and caught.value.what_to_fix  # what the user reads
    return caught.value


def test_a_manifest_names_the_job_after_its_key() -> None:
    job = _manifest()
    assert job == JobSpec("holiday", "videos/clip.mp4", "faces/me.jpg", 1, "jobs/holiday.json", True)
    assert job.job_id == "holiday"


def test_a_rerun_gets_its_own_job_id_and_the_face_check_can_be_skipped() -> None:
    job = _manifest(run=3, face_check=False)
    assert (job.job_id, job.run, job.face_check) == ("holiday--run3", 3, False)


def test_keys_in_the_manifest_are_trimmed() -> None:
    job = _manifest(video="  videos/clip.mp4 ", face="faces/me.jpg\n")
    assert (job.video_key, job.face_key) == ("videos/clip.mp4", "faces/me.jpg")


@pytest.mark.parametrize(("body", "where"), [
    (b"not json", "manifest"),
    (b"[]", "body"),
    (json.dumps({"video": "videos/clip.mp4"}).encode(), "face"),
    (json.dumps({"video": "videos/a.mp4", "face": "faces/b.jpg", "colour": "red"}).encode(), "colour"),
    (json.dumps({"video": "videos/a.mp4", "face": "faces/b.jpg", "run": 0}).encode(), "run"),
    (json.dumps({"video": "videos/a.mp4", "face": "faces/b.jpg", "run": 10_000}).encode(), "run"),
    (json.dumps({"video": "", "face": "faces/b.jpg"}).encode(), "video"),
])
def test_an_invalid_manifest_says_what_is_wrong(body: bytes, where: str) -> None:
    error = _rejected(job_from_manifest, "jobs/bad.json", body, SETTINGS)
    assert error.code == "manifest_invalid" and where in error.message


def test_a_manifest_larger_than_a_manifest_can_be_is_refused_unread() -> None:
    error = _rejected(job_from_manifest, "jobs/big.json", b"{" + b" " * MAX_MANIFEST_BYTES + b"}", SETTINGS)
    assert error.code == "manifest_too_large"


@pytest.mark.parametrize(("key", "code"), [
    ("jobs/nested/holiday.json", "manifest_key_invalid"),
    ("jobs/holiday.txt", "manifest_key_invalid"),
    ("jobs/-starts-with-a-dash.json", "job_name_invalid"),
    ("jobs/has space.json", "job_name_invalid"),
    (f"jobs/{'x' * 65}.json", "job_name_invalid"),
])
def test_the_manifest_key_must_name_a_valid_job(key: str, code: str) -> None:
    assert _rejected(_manifest, key).code == code


@pytest.mark.parametrize(("video", "face", "code"), [
    ("faces/clip.mp4", "faces/me.jpg", "key_outside_prefix"),
    ("videos/../results/other/output.mp4", "faces/me.jpg", "key_outside_prefix"),
    ("videos/clip.mp4", "videos/me.jpg", "key_outside_prefix"),
    ("videos/clip.avi", "faces/me.jpg", "wrong_file_type"),
    ("videos/clip.mp4", "faces/me.gif", "wrong_file_type"),
])
def test_the_named_files_must_be_under_their_prefix_and_of_a_known_type(video: str, face: str, code: str) -> None:
    assert _rejected(_manifest, video=video, face=face).code == code


def test_suffixes_are_matched_whatever_their_case() -> None:
    assert _manifest(video="videos/CLIP.MOV", face="faces/ME.PNG").video_key == "videos/CLIP.MOV"


def test_the_deployments_prefixes_are_the_ones_checked() -> None:
    custom = PipelineSettings(bucket="media", jobs_table="jobs", api_key_secret_arn="arn", videos_prefix="in/v/",
                              faces_prefix="in/f/", jobs_prefix="todo/")
    job = _manifest("todo/holiday.json", custom, video="in/v/clip.mp4", face="in/f/me.jpg")
    assert job.name == "holiday"
    assert _rejected(_manifest, "todo/holiday.json", custom).code == "key_outside_prefix"  # videos/ is not in/v/


def test_a_video_with_face_key_metadata_is_a_job_named_after_the_file() -> None:
    job = job_from_video("videos/holiday clip.mp4", {"face-key": " faces/me.jpg "}, SETTINGS)
    assert job == JobSpec("holiday-clip", "videos/holiday clip.mp4", "faces/me.jpg", 1, "videos/holiday clip.mp4")


def test_a_video_without_face_key_waits_for_its_manifest() -> None:
    assert job_from_video("videos/clip.mp4", {}, SETTINGS) is None
    assert job_from_video("videos/clip.mp4", {"face-key": ""}, SETTINGS) is None


def test_a_face_key_outside_faces_is_refused() -> None:
    assert _rejected(job_from_video, "videos/clip.mp4", {"face-key": "results/x.jpg"}, SETTINGS).code == \
        "key_outside_prefix"


@pytest.mark.parametrize(("key", "name"), [
    ("videos/holiday clip.mp4", "holiday-clip"),
    ("jobs/a.b.json", "a-b"),
    ("jobs/ü.json", "unnamed"),
    ("", "unnamed"),
    (f"videos/{'y' * 80}.mp4", "y" * 64),
])
def test_a_name_for_error_reports_is_made_from_any_key(key: str, name: str) -> None:
    assert job_name_from_key(key) == name


def test_job_ids_and_keys_are_spelled_by_the_layout() -> None:
    assert (layout.job_id("holiday"), layout.job_id("holiday", 2)) == ("holiday", "holiday--run2")
    assert layout.job_name("holiday--run2") == layout.job_name("holiday") == "holiday"
    assert layout.manifest_key("holiday", "todo/") == "todo/holiday.json"
    assert layout.result_key("holiday--run2", layout.ERROR_NAME) == "results/holiday--run2/error.json"
    assert (layout.job_key("holiday"), layout.task_key("t-1")) == ("JOB#holiday", "TASK#t-1")
