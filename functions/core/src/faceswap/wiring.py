"""Composition root: builds the core objects from the environment, once per container."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from faceswap import aws
from faceswap.callbacks import Callbacks
from faceswap.records import JobStore
from faceswap.results import ResultWriter

if TYPE_CHECKING:
    from faceswap.event_bus import EventPublisher
    from faceswap.faces import FacePrecheck
    from faceswap.finishing import Finisher
    from faceswap.job_events import JobEvents, Rejections
    from faceswap.starter import JobStarter


@cache
def store() -> JobStore:
    return JobStore(aws.jobs_table())


@cache
def results() -> ResultWriter:
    s = aws.settings()
    return ResultWriter(aws.s3(), s.bucket, s.results_prefix)


@cache
def finisher() -> Finisher:
    # Imported here: the webhook (which never finishes a job) does not load the state contracts (pydantic).
    from faceswap.finishing import Finisher

    return Finisher(aws.s3(), aws.settings().bucket, store(), results())


@cache
def starter() -> JobStarter:
    # Imported here: only the start function needs the manifest and the media checks.
    from faceswap.media import MediaLimits
    from faceswap.starter import JobStarter

    return JobStarter(s3=aws.s3(), sfn=aws.sfn(), store=store(), results=results(), settings=aws.settings(),
                      vendor=aws.vendor_client, limits=MediaLimits.from_env(), faces=face_precheck(),
                      rejections=rejections())


def face_precheck() -> FacePrecheck | None:
    """The face pre-check when the detector function is deployed (faceswap:face_precheck), else None."""
    from faceswap.faces import FacePrecheck

    s = aws.settings()
    if not s.face_detector_function:
        return None
    return FacePrecheck(aws.lambda_client(), s.face_detector_function, s.face_precheck_samples)


@cache
def callbacks() -> Callbacks:
    return Callbacks(store(), aws.sfn())


@cache
def rejections() -> Rejections:
    """The outbox of uploads rejected before they became jobs (their FAILED events)."""
    from faceswap.job_events import Rejections

    return Rejections(aws.jobs_table())


@cache
def job_events() -> JobEvents:
    from faceswap.job_events import JobEvents

    s = aws.settings()
    return JobEvents(s.bucket, s.results_prefix)


@cache
def event_publisher() -> EventPublisher:
    from faceswap.event_bus import EventPublisher

    return EventPublisher(aws.events(), aws.settings().event_bus_name)
