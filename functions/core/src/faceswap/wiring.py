"""Composition root: builds the core objects from the environment, once per container."""

from __future__ import annotations

import time
from functools import cache
from typing import TYPE_CHECKING

from faceswap import aws
from faceswap.callbacks import Callbacks
from faceswap.records import JobStore
from faceswap.results import ResultWriter

if TYPE_CHECKING:
    from faceswap.admission import AdmissionControl
    from faceswap.claims import Claims
    from faceswap.event_bus import EventPublisher
    from faceswap.faces import FacePrecheck
    from faceswap.finishing import Finisher
    from faceswap.job_events import JobEvents, Rejections
    from faceswap.reports import Reporter
    from faceswap.starter import JobStarter
    from faceswap.submission import Submission


@cache
def store() -> JobStore:
    return JobStore(aws.jobs_table())


@cache
def results() -> ResultWriter:
    s = aws.settings()
    return ResultWriter(aws.s3(), s.bucket, s.results_prefix)


@cache
def admission() -> AdmissionControl:
    from faceswap.admission import AdmissionControl, AdmissionSettings, DynamoAdmissionStore

    return AdmissionControl(DynamoAdmissionStore(aws.jobs_table()), AdmissionSettings.from_env(), time.time,
                            credit_source=lambda: int(aws.vendor_client().credit_balance()))


@cache
def finisher() -> Finisher:
    # Imported here: the webhook (which never finishes a job) does not load the state contracts (pydantic).
    from faceswap.finishing import Finisher

    return Finisher(aws.s3(), aws.settings().bucket, store(), results(), slots=admission())


@cache
def starter() -> JobStarter:
    # Imported here: only the start function needs the manifest, the media checks and admission.
    from faceswap.claims import Claims
    from faceswap.intake import Intake
    from faceswap.media import MediaLimits
    from faceswap.starter import JobStarter

    s = aws.settings()
    claims = Claims(aws.jobs_table(), time.time)
    return JobStarter(intake=Intake(aws.s3(), s, MediaLimits.from_env(), face_precheck()), claims=claims,
                      store=store(), report=reporter(), submission=_submission(claims), settings=s, clock=time.time,
                      rejections=rejections())


@cache
def reporter() -> Reporter:
    from faceswap.reports import Reporter

    return Reporter(store(), results())


def _submission(claims: Claims) -> Submission:
    from faceswap.requeue import StartQueue
    from faceswap.submission import Submission
    from faceswap.vendor_inputs import VendorInputs

    s = aws.settings()
    inputs = VendorInputs(aws.s3(), s.bucket, claims, s.input_mode, s.input_url_ttl_seconds,
                          s.vendor_file_ttl_seconds, time.time)
    return Submission(aws.sfn(), claims, admission(), inputs, StartQueue(aws.sqs(), s.start_queue_url),
                      reporter(), s, aws.vendor_client, time.time)


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
