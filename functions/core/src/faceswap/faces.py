"""Face pre-check, the invoking side: ask the detector function whether the video and the photo show a face, and
turn "no face" into a rejection before the vendor charges for the task.

The detector is OpenCV's Haar frontal-face cascade, not the vendor's detector: it can miss profile or small faces
that the vendor would accept (a user can turn it off per job with `"face_check": false`). Its own failures
never lose a job: when it cannot answer (function error, timeout, throttling) the job goes on to the vendor,
which detects faces itself — at worst the units of a faceless video are spent, as without the pre-check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from faceswap.errors import JobRejected

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

logger = Logger(child=True)
metrics = Metrics()  # Powertools shares metrics between instances: the handler's log_metrics flushes these


@dataclass(frozen=True)
class FaceCheck:
    """The detector's answer (detect_faces.check.FaceCheckResult, as JSON)."""

    frames_checked: int
    frames_with_face: int
    photo_has_face: bool | None

    @classmethod
    def from_payload(cls, payload: Any) -> FaceCheck:
        if not isinstance(payload, dict):
            raise ValueError(f"the detector answered {payload!r}")
        photo = payload.get("photo_has_face")
        return cls(int(payload["frames_checked"]), int(payload["frames_with_face"]),
                   None if photo is None else bool(photo))

    @property
    def video_without_face(self) -> bool:
        """Frames were decoded and none showed a face (no decoded frame is no evidence: the vendor decides)."""
        return self.frames_checked > 0 and self.frames_with_face == 0

    @property
    def photo_without_face(self) -> bool:
        return self.photo_has_face is False

    def rejection(self, video_key: str, face_key: str) -> JobRejected | None:
        """The error a user reads in error.json, or None when the job may go on."""
        if self.video_without_face:
            return _no_face_in_video(video_key, self.frames_checked, face_key if self.photo_without_face else None)
        if self.photo_without_face:
            return _no_face_in_photo(face_key)
        return None


def _no_face_in_video(video_key: str, frames_checked: int, faceless_photo: str | None) -> JobRejected:
    also = f" The photo {faceless_photo} shows no face either." if faceless_photo else ""
    return JobRejected(
        "no_face_in_video",
        f"No face was found in the video {video_key} ({frames_checked} frames checked, spread over the whole "
        f"video).{also} Nothing was sent to the vendor and no unit was spent.",
        "Use a video where one face looks towards the camera, large and well lit, for most of the clip. If there is "
        "such a face and this check missed it (profile or small faces), start the job again with a manifest that "
        "adds \"face_check\": false and a new \"run\" number: the vendor then checks the faces itself, and charges "
        "the video's units even if it finds none.")


def _no_face_in_photo(face_key: str) -> JobRejected:
    return JobRejected(
        "no_face_in_photo",
        f"No face was found in the photo {face_key}. Nothing was sent to the vendor and no unit was spent.",
        "Upload a photo of one face looking towards the camera, well lit and not cropped, then start the job again "
        "with a new \"run\" number in its manifest (adding \"face_check\": false if the photo does show a face "
        "that this check missed).")


@dataclass(frozen=True)
class FacePrecheck:
    """Synchronous calls of the detector function (RequestResponse), one per job."""

    lambda_client: LambdaClient
    function_name: str
    samples: int

    def require_faces(self, bucket: str, video_key: str, face_key: str, job_id: str = "") -> None:
        """Raises JobRejected (no_face_in_video / no_face_in_photo) when the detector found no face."""
        check = self.check(bucket, video_key, face_key, job_id)
        if check is None:
            return
        rejection = check.rejection(video_key, face_key)
        if rejection is not None:
            _count("rejected")
            raise rejection
        _count("passed")

    def skip(self) -> None:
        logger.info("face pre-check skipped: the manifest says \"face_check\": false")
        _count("skipped")

    def check(self, bucket: str, video_key: str, face_key: str, job_id: str = "") -> FaceCheck | None:
        """The detector's answer, or None when it could not give one (the job then goes on: fail open)."""
        request = {"bucket": bucket, "video_key": video_key, "face_key": face_key, "samples": self.samples,
                   "job_id": job_id}
        try:
            response = self.lambda_client.invoke(FunctionName=self.function_name, InvocationType="RequestResponse",
                                                 Payload=json.dumps(request).encode())
            payload = json.loads(response["Payload"].read())
            if response.get("FunctionError"):  # payload: {"errorType", "errorMessage", ...}
                raise RuntimeError(f"the detector failed: {str(payload)[:500]}")
            check = FaceCheck.from_payload(payload)
        except (BotoCoreError, ClientError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            logger.warning("face pre-check unavailable: the vendor will check the faces", extra={"error": str(exc)})
            _count("unavailable")
            return None
        logger.info("face pre-check", extra={"frames_checked": check.frames_checked,
                                             "frames_with_face": check.frames_with_face,
                                             "photo_has_face": check.photo_has_face})
        return check


def _count(outcome: str) -> None:
    """FacePrecheck_passed | _rejected | _unavailable | _skipped (namespace FaceSwap), like Jobs_<action>."""
    metrics.add_metric(name=f"FacePrecheck_{outcome}", unit=MetricUnit.Count, value=1)
