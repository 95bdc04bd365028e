"""The face pre-check from the start function's side (faceswap.intake): "no face" becomes a rejection before
anything is spent, a detector that cannot answer lets the job go on (fail open), and `"face_check": false` skips it.

The intake runs for real against S3 (moto); the detector's answers are played by botocore's Stubber on a real
Lambda client (its own tests, on real media, are in test_face_detection.py). What the start function then writes
for a rejection (error.json) is tested end to end (tests/e2e/test_guarantees_inputs.py)."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import Stubber

from faceswap.config import PipelineSettings
from faceswap.errors import JobRejected
from faceswap.faces import FaceCheck, FacePrecheck, metrics
from faceswap.intake import Intake
from faceswap.jobs import JobSpec, job_from_manifest
from faceswap.media import MediaLimits
from tests.unit.conftest import BUCKET, FACE, TABLE, VIDEO

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

DETECTOR = "detect-faces"
SETTINGS = PipelineSettings(bucket=BUCKET, jobs_table=TABLE, api_key_secret_arn="unused")


@pytest.fixture(autouse=True)
def clean_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def detector() -> Iterator[Stubber]:
    """A real Lambda client whose answers are queued on its Stubber (which fails on any call not queued)."""
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _checked(aws: dict[str, Any], detector: Stubber, name: str, face_check: bool = True) -> None:
    """The intake's checks of a job named `name` (the facts it measured are tested in tests/unit/media)."""
    faces = FacePrecheck(cast("LambdaClient", detector.client), DETECTOR, samples=8)
    Intake(aws["s3"], SETTINGS, MediaLimits(), faces).check(BUCKET, JobSpec(name, VIDEO, FACE, face_check=face_check))


def _answers(detector: Stubber, payload: Any, function_error: str | None = None, job_id: str = "") -> None:
    body = json.dumps(payload).encode()
    response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
    if function_error:
        response["FunctionError"] = function_error
    request = {"bucket": BUCKET, "video_key": VIDEO, "face_key": FACE, "samples": 8, "job_id": job_id}
    detector.add_response("invoke", response, {"FunctionName": DETECTOR, "InvocationType": "RequestResponse",
                                               "Payload": json.dumps(request).encode()})


def _counted() -> dict[str, list[float]]:
    return {name: entry["Value"] for name, entry in metrics.metric_set.items()}


# --- rejections: before the vendor, with an error.json a user can act on -----------------------------------------
@pytest.mark.parametrize(("answer", "code", "names"), [
    ({"frames_checked": 8, "frames_with_face": 0, "photo_has_face": True}, "no_face_in_video", VIDEO),
    ({"frames_checked": 8, "frames_with_face": 8, "photo_has_face": False}, "no_face_in_photo", FACE),
])
def test_no_face_rejects_the_job_before_the_vendor_is_reached(aws: dict[str, Any], detector: Stubber,
                                                               answer: dict[str, Any], code: str, names: str) -> None:
    _answers(detector, answer, job_id="faceless")
    with pytest.raises(JobRejected) as rejected:
        _checked(aws, detector, "faceless")

    error = rejected.value
    assert error.code == code
    assert names in error.message and "no unit was spent" in error.message
    assert '"face_check": false' in error.what_to_fix and error.what_to_fix not in error.message
    assert _counted() == {"FacePrecheck_rejected": [1.0]}


def test_a_face_in_both_lets_the_job_go_on_to_the_vendor(aws: dict[str, Any], detector: Stubber) -> None:
    _answers(detector, {"frames_checked": 8, "frames_with_face": 3, "photo_has_face": True}, job_id="faces")
    _checked(aws, detector, "faces")
    assert _counted() == {"FacePrecheck_passed": [1.0]}


def test_the_manifest_can_turn_the_check_off_for_one_job(aws: dict[str, Any], detector: Stubber) -> None:
    _checked(aws, detector, "unchecked", face_check=False)  # no answer queued: a call of the detector would fail
    assert _counted() == {"FacePrecheck_skipped": [1.0]}


# --- fail open: a detector that cannot answer never loses the job --------------------------------------------------
def test_a_detector_error_lets_the_job_go_on_and_is_counted(aws: dict[str, Any], detector: Stubber) -> None:
    _answers(detector, {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 60.00 seconds"},
             function_error="Unhandled", job_id="detector-down")
    _checked(aws, detector, "detector-down")  # the job goes on, unchecked
    assert _counted() == {"FacePrecheck_unavailable": [1.0]}


def test_a_detector_that_cannot_be_reached_gives_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.client("lambda", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=Config(retries={"total_max_attempts": 1}, connect_timeout=1))
    assert FacePrecheck(client, DETECTOR, samples=8).check(BUCKET, VIDEO, FACE) is None
    assert _counted() == {"FacePrecheck_unavailable": [1.0]}


@pytest.mark.parametrize("payload", [{"frames_checked": 8}, ["not", "a", "result"], None])
def test_an_answer_that_is_not_a_result_gives_no_answer(detector: Stubber, payload: Any) -> None:
    _answers(detector, payload)
    assert FacePrecheck(cast("LambdaClient", detector.client), DETECTOR, samples=8).check(BUCKET, VIDEO, FACE) is None


# --- the decision ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("check", "code"), [
    (FaceCheck(8, 1, True), None),
    (FaceCheck(0, 0, True), None),  # OpenCV decoded no frame: no evidence, the vendor decides
    (FaceCheck(8, 8, None), None),  # nor could it read the photo
    (FaceCheck(8, 0, True), "no_face_in_video"),
    (FaceCheck(8, 8, False), "no_face_in_photo"),
    (FaceCheck(8, 0, False), "no_face_in_video"),  # both: the video first, the photo named in the message
])
def test_only_decoded_inputs_without_a_face_are_rejected(check: FaceCheck, code: str | None) -> None:
    rejection = check.rejection(VIDEO, FACE)
    assert (rejection.code if isinstance(rejection, JobRejected) else None) == code
    if check == FaceCheck(8, 0, False):
        assert rejection is not None and FACE in rejection.message


@pytest.mark.parametrize(("extra", "expected"), [({}, True), ({"face_check": False}, False),
                                                 ({"face_check": True}, True)])
def test_the_manifest_option_defaults_to_checking(extra: dict[str, Any], expected: bool) -> None:
    body = json.dumps({"video": VIDEO, "face": FACE, **extra}).encode()
    assert job_from_manifest("jobs/a.json", body, SETTINGS).face_check is expected


def test_a_face_check_that_is_not_a_boolean_is_a_manifest_error() -> None:
    body = json.dumps({"video": VIDEO, "face": FACE, "face_check": "sometimes"}).encode()
    with pytest.raises(JobRejected) as rejected:
        job_from_manifest("jobs/a.json", body, SETTINGS)
    assert rejected.value.code == "manifest_invalid" and "face_check" in rejected.value.message
