"""The face detector (functions/detect_faces: its modules and its handler) on real generated media: it finds the
astronaut where the vendor emulator finds her, and nothing in the coffee cup. The handler runs against S3 (moto)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import cv2
import numpy as np
import pytest

from detect_faces.check import FaceCheckResult, check_faces
from detect_faces.haar import HaarFaceDetector
from detect_faces.request import DetectionRequest
from detect_faces.sampling import frame_indices, sample_frames
from faceswap.faces import FaceCheck
from local.emulator.faces import detect_face
from local.media import make_truncated_video
from tests.media import Media

BUCKET = "media"


@dataclass(frozen=True)
class Files:
    face_video: Path
    no_face_video: Path
    face_photo: Path
    no_face_photo: Path


@pytest.fixture(scope="module")
def files(media: Media) -> Files:
    return Files(face_video=media.video(seconds=2, size=(320, 180)),
                 no_face_video=media.video(seconds=2, size=(320, 180), face=False),
                 face_photo=media.face, no_face_photo=media.no_face_image)


@pytest.fixture(scope="module")
def detector() -> HaarFaceDetector:
    return HaarFaceDetector()


# --- sampling --------------------------------------------------------------------------------------------------------
def test_samples_are_spread_evenly_over_the_whole_video() -> None:
    assert frame_indices(750, 8) == [46, 140, 234, 328, 421, 515, 609, 703]
    assert frame_indices(3, 8) == [0, 1, 2]  # a video shorter than the sample count: every frame once
    assert frame_indices(0, 8) == [] and frame_indices(10, 0) == []


def test_sampled_frames_are_decoded_frames_of_the_video(files: Files) -> None:
    frames = list(sample_frames(files.face_video, 5))
    assert len(frames) == 5
    assert all(frame.shape == (180, 320, 3) and frame.dtype == np.uint8 for frame in frames)


def test_a_file_opencv_cannot_decode_gives_no_frames(media: Media, tmp_path: Path) -> None:
    whole = media.video(seconds=1, size=(160, 96), moov_at_end=True)
    cut = make_truncated_video(whole, tmp_path / "cut.mp4")  # its index was at the end: gone
    assert list(sample_frames(cut, 8)) == []


# --- detection -------------------------------------------------------------------------------------------------------
def test_a_video_with_a_face_has_a_face_in_every_sampled_frame(detector: HaarFaceDetector, files: Files) -> None:
    result = check_faces(detector, files.face_video, files.face_photo.read_bytes(), samples=8)
    assert result == FaceCheckResult(frames_checked=8, frames_with_face=8, photo_has_face=True)


def test_a_video_without_a_face_has_none(detector: HaarFaceDetector, files: Files) -> None:
    result = check_faces(detector, files.no_face_video, files.face_photo.read_bytes(), samples=8)
    assert (result.frames_checked, result.frames_with_face) == (8, 0)


def test_a_photo_without_a_face_is_told_apart_from_one_that_cannot_be_read(detector: HaarFaceDetector,
                                                                          files: Files) -> None:
    no_face = check_faces(detector, files.face_video, files.no_face_photo.read_bytes(), samples=2)
    unreadable = check_faces(detector, files.face_video, b"not an image", samples=2)
    assert (no_face.photo_has_face, unreadable.photo_has_face) == (False, None)


def test_the_detector_agrees_with_the_vendor_emulator(detector: HaarFaceDetector, files: Files) -> None:
    """Same cascade, same parameters: locally, what the pre-check lets through the emulated vendor accepts."""
    frames = [*sample_frames(files.face_video, 4), *sample_frames(files.no_face_video, 4)]
    photos = [_read(files.face_photo), _read(files.no_face_photo)]
    for bgr in [*frames, *photos]:
        emulator_finds = detect_face(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) is not None
        assert detector.has_face(bgr) == emulator_finds


def test_large_frames_are_downscaled_before_detection(detector: HaarFaceDetector, files: Files) -> None:
    photo = _read(files.face_photo)
    assert detector.has_face(cv2.resize(photo, (2048, 2048), interpolation=cv2.INTER_CUBIC))


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return np.asarray(image)


# --- the function's input and output ---------------------------------------------------------------------------------
@pytest.mark.parametrize("event", [
    {"video_key": "videos/a.mp4", "face_key": "faces/a.png", "samples": 8},
    {"bucket": "b", "video_key": "", "face_key": "faces/a.png", "samples": 8},
    {"bucket": "b", "video_key": "videos/a.mp4", "face_key": "faces/a.png", "samples": 0},
    {"bucket": "b", "video_key": "videos/a.mp4", "face_key": "faces/a.png", "samples": True},
    {"bucket": "b", "video_key": "videos/a.mp4", "face_key": "faces/a.png", "samples": "8"},
    {"bucket": "b", "video_key": "videos/a.mp4", "face_key": "faces/a.png", "samples": 8, "job_id": 7},
])
def test_a_malformed_request_is_refused_with_the_field_named(event: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^(bucket|video_key|samples|job_id) must be"):
        DetectionRequest.from_event(event)


def test_the_result_is_what_the_start_function_reads() -> None:
    result = FaceCheckResult(frames_checked=8, frames_with_face=0, photo_has_face=None)
    assert FaceCheck.from_payload(json.loads(json.dumps(result.to_dict()))) == FaceCheck(8, 0, None)


# --- the handler, with S3 ----------------------------------------------------------------------------------------
class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "detect-faces", 2048, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:detect-faces"


@pytest.fixture
def s3_with_media(files: Files, in_process_aws: None, monkeypatch: pytest.MonkeyPatch,
                  tmp_path: Path) -> Iterator[Path]:
    """Moto S3 holding the media; yields the directory the handler's temporary files go to."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FaceSwapTest")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key, path in {"videos/face.mp4": files.face_video, "videos/cup.mp4": files.no_face_video,
                      "faces/face.png": files.face_photo, "faces/cup.png": files.no_face_photo}.items():
        s3.upload_file(str(path), BUCKET, key)
    from detect_faces import app

    app._s3.cache_clear()  # a client made inside this moto context
    yield tmp_path
    app._s3.cache_clear()


@pytest.mark.parametrize(("video", "photo", "expected"), [
    ("videos/face.mp4", "faces/face.png", {"frames_checked": 6, "frames_with_face": 6, "photo_has_face": True}),
    ("videos/cup.mp4", "faces/face.png", {"frames_checked": 6, "frames_with_face": 0, "photo_has_face": True}),
    ("videos/face.mp4", "faces/cup.png", {"frames_checked": 6, "frames_with_face": 6, "photo_has_face": False}),
])
def test_the_handler_checks_objects_from_s3_and_leaves_tmp_clean(s3_with_media: Path, video: str, photo: str,
                                                                 expected: dict[str, Any]) -> None:
    from detect_faces.app import lambda_handler

    event = {"bucket": BUCKET, "video_key": video, "face_key": photo, "samples": 6}
    assert lambda_handler(event, _Context()) == expected
    assert list(s3_with_media.iterdir()) == []  # the downloaded video is gone
