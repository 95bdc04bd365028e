"""Face pre-check: does the video show a face in any of N sampled frames, and does the photo show one?

Invoked synchronously by the start function before anything is uploaded to the vendor. The video is streamed to
/tmp (never held in memory) and removed afterwards, so a warm container's /tmp does not fill up.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from detect_faces.check import check_faces
from detect_faces.download import download_to, read_photo
from detect_faces.haar import HaarFaceDetector
from detect_faces.request import DetectionRequest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def _s3() -> S3Client:
    return boto3.client("s3")


@cache
def _detector() -> HaarFaceDetector:
    return HaarFaceDetector()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = DetectionRequest.from_event(event)
    if request.job_id:
        logger.append_keys(job_id=request.job_id)
    started = time.monotonic()
    _remove_leftovers()
    photo = read_photo(_s3(), request.bucket, request.face_key)
    with tempfile.TemporaryDirectory(prefix="faces-") as workdir:
        video = Path(workdir) / "video"
        size = download_to(_s3(), request.bucket, request.video_key, video)
        result = check_faces(_detector(), video, photo, request.samples)
    seconds = time.monotonic() - started
    metrics.add_metric(name="FaceDetectionSeconds", unit=MetricUnit.Seconds, value=round(seconds, 3))
    logger.info("faces checked", extra={**result.to_dict(), "video_key": request.video_key,
                                         "face_key": request.face_key, "video_bytes": size,
                                         "seconds": round(seconds, 3)})
    return result.to_dict()


def _remove_leftovers() -> None:
    """A killed invocation (timeout) never cleans up, and a warm container keeps /tmp (512 MB by default): a few
    left-over 100 MB videos would fill it."""
    for leftover in Path(tempfile.gettempdir()).glob("faces-*"):
        shutil.rmtree(leftover, ignore_errors=True)
