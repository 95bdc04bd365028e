"""Start a job from an uploaded object: validate before spending, claim once, upload, create the task, run.

Order matters for "no lost job, no double charge":
  claim (conditional put) → validate media headers (free) → face pre-check (free: our detector function) →
  upload inputs → mark "creating" → create task (spends units) → record task id → start the execution named
  after the job (idempotent).
A transient failure before the task exists releases the claim and re-raises, so the event's retry starts over.
A hard crash (timeout, out of memory) cannot release anything: Lambda retries the event with the same request id,
which the claim remembers, so the retry knows its own earlier attempt died. Before "creating" nothing was spent
and it starts over; after, the task may exist and be billed, so it reports that instead of creating another.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from faceswap.errors import ErrorReport, JobRejected, VendorUnavailable
from faceswap.faces import FacePrecheck
from faceswap.jobs import JobSpec, job_from_manifest, job_from_video, job_name_from_key
from faceswap.layout import STARTING, SUBMITTED
from faceswap.media import (
    MediaInvalid,
    MediaLimits,
    S3RangeReader,
    billable_units,
    dst_duration,
    validate_image,
    validate_video,
)
from faceswap.polling import wait_seconds
from faceswap.records import CREATING, ClaimLost, JobStore
from faceswap.results import ResultWriter
from faceswap.states import ExecutionInput
from faceswap.transfer import upload_to_vendor
from faceswap.youcam.errors import RateLimited, YouCamError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

    from faceswap.config import PipelineSettings
    from faceswap.job_events import Rejections
    from faceswap.media import VideoInfo
    from faceswap.youcam.client import YouCamClient

logger = Logger(child=True)


@dataclass(frozen=True)
class StartOutcome:
    action: str  # started | duplicate | resumed | rejected | waiting_for_manifest | failed
    job_id: str
    detail: str = ""


@dataclass
class JobStarter:
    s3: S3Client
    sfn: SFNClient
    store: JobStore
    results: ResultWriter
    settings: PipelineSettings
    vendor: Any  # () -> YouCamClient, called only when a unit may be spent
    limits: MediaLimits
    clock: Any = time.time
    faces: FacePrecheck | None = None  # the face pre-check; None: not deployed
    rejections: Rejections | None = None  # job events (issue 14 §1): FAILED of uploads refused before a claim

    def handle_upload(self, bucket: str, key: str, attempt_id: str = "", ended_attempt: str = "") -> StartOutcome:
        """`attempt_id`: the Lambda request id, the same for every retry of one event. `ended_attempt`: the request
        id of attempts known to have ended (a replayed dead letter names it)."""
        try:
            job = self._job_for(bucket, key)
        except JobRejected as exc:
            job_id = job_name_from_key(key)
            report = ErrorReport.from_exception(exc)
            self.results.write_error(job_id, report)
            # --- job events (issue 14 §1): no JOB# record exists, so this upload's FAILED event has its own outbox
            if self.rejections is not None:
                self.rejections.record(job_id, key, report)
            return StartOutcome("rejected", job_id, exc.code)
        if job is None:
            return StartOutcome("waiting_for_manifest", job_name_from_key(key))
        logger.append_keys(job_id=job.job_id)
        claim = self.store.claim(job, attempt_id)
        try:
            if claim.won:
                return self._run(bucket, job, claim.token)
            existing = claim.existing or {}
            if self._abandoned(existing, attempt_id, ended_attempt):
                token = self.store.take_over(job.job_id, existing, attempt_id)
                if token is not None:
                    return self._after_crash(bucket, job, existing, token)
            return self._on_duplicate(job, existing)
        except ClaimLost:
            logger.info("another attempt took the claim over: stopping, nothing spent or written by this one")
            return StartOutcome("duplicate", job.job_id, "claim taken over")

    # --- steps ---------------------------------------------------------------------------------------------
    def _job_for(self, bucket: str, key: str) -> JobSpec | None:
        s = self.settings
        if key.startswith(s.jobs_prefix):
            return job_from_manifest(key, self._manifest_head(bucket, key), s)
        if key.startswith(s.videos_prefix):
            metadata = self.s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
            return job_from_video(key, metadata, s)
        raise JobRejected("key_outside_prefix", f"{key} is not a job upload.",
                          f"Start jobs with a manifest under {s.jobs_prefix} or a video under {s.videos_prefix}.")

    def _manifest_head(self, bucket: str, key: str) -> bytes:
        """The manifest's first 64 KiB (enough to tell one that is too large)."""
        try:
            return bytes(self.s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # S3's 416 for any range of 0 bytes
                return b""
            raise

    def _run(self, bucket: str, job: JobSpec, token: str) -> StartOutcome:
        try:
            video, face_size = self._validate(bucket, job)
            client: YouCamClient = self.vendor()
            src = upload_to_vendor(self.s3, bucket, job.video_key, video.size_bytes, client)
            ref = upload_to_vendor(self.s3, bucket, job.face_key, face_size, client)
        except (JobRejected, MediaInvalid) as exc:
            return self._fail(job, exc)
        except YouCamError as exc:
            return self._fail(job, exc) if not exc.retryable else self._give_back(job, token, exc)
        except Exception:
            # Anything unexpected before a unit is spent (an S3 or DynamoDB fault): give the claim back so that
            # the event's retry starts over, instead of leaving a STARTING job that every retry would ignore.
            self.store.release(job.job_id, token)
            raise
        return self._create_task(job, token, client, src, ref, video)

    def _validate(self, bucket: str, job: JobSpec) -> tuple[VideoInfo, int]:
        with _missing_file_is_rejected(job.video_key, "video"):
            video = validate_video(S3RangeReader(self.s3, bucket, job.video_key), self.limits)
        with _missing_file_is_rejected(job.face_key, "face image"):
            face = validate_image(S3RangeReader(self.s3, bucket, job.face_key), self.limits)
        self._check_faces(bucket, job)
        return video, face.size_bytes

    def _check_faces(self, bucket: str, job: JobSpec) -> None:
        """After the free header checks, before the first upload: a video or photo without a face is rejected
        here, instead of by the vendor after it has charged the task."""
        if self.faces is None:
            return
        if job.face_check:
            self.faces.require_faces(bucket, job.video_key, job.face_key, job.job_id)
        else:
            self.faces.skip()

    def _create_task(self, job: JobSpec, token: str, client: YouCamClient, src: str, ref: str,
                     video: VideoInfo) -> StartOutcome:
        self.store.mark_creating(job.job_id, token)  # ClaimLost here: another attempt owns the job, nothing spent
        try:
            task = client.create_task(src_file_id=src, ref_file_id=ref,
                                      dst_duration=dst_duration(video.duration_seconds))
        except RateLimited as exc:  # 429 means "not processed": safe to try the whole start again later
            return self._give_back(job, token, exc)
        except YouCamError as exc:
            # A 5xx or a lost answer is ambiguous (the task may exist and be billed): never retry blindly.
            return self._fail_with(job, _uncertain_create(exc) if exc.retryable else ErrorReport.from_exception(exc))
        logger.append_keys(task_id=task.task_id)
        units = billable_units(video.duration_seconds)
        interval = wait_seconds(task.polling_interval_seconds)
        try:
            self.store.mark_submitted(job.job_id, token, task.task_id, units, video.duration_seconds, interval)
        except ClaimLost:
            # Taken over while the task was being created: the other attempt reported the job as interrupted.
            # Name the task that does exist (and is billed) where the user looks.
            self.results.write_error(job.job_id, _start_interrupted(
                f"The vendor task {task.task_id} was created, but the job had meanwhile been reported as "
                "interrupted by another attempt, so it was not followed."))
            return StartOutcome("failed", job.job_id, "start_interrupted")
        except Exception:
            # The task exists and is billed but is not on record: say so where the user looks, then fail loudly.
            self.results.write_error(job.job_id, _start_interrupted(
                f"The vendor task {task.task_id} was created but could not be recorded."))
            raise
        self._start_execution(job.job_id, task.task_id, interval)
        logger.info("job started", extra={"units": units, "duration_seconds": video.duration_seconds})
        return StartOutcome("started", job.job_id, task.task_id)

    def _start_execution(self, job_id: str, task_id: str, interval: float | None) -> None:
        try:
            self.sfn.start_execution(stateMachineArn=self.settings.state_machine_arn, name=job_id,
                                     input=ExecutionInput.first(job_id, task_id, wait_seconds(interval)).to_json())
        except self.sfn.exceptions.ExecutionAlreadyExists:
            logger.info("execution already exists")

    def _abandoned(self, existing: dict[str, Any], attempt_id: str, ended_attempt: str) -> bool:
        """A STARTING claim whose holder is dead: an attempt a replayed dead letter says ended; this event's own
        earlier attempt (Lambda retries a failed event with the same request id, a minute later at the soonest:
        sooner, it is a duplicate delivery of a live attempt); or any holder older than the function can run."""
        if existing.get("state") != STARTING:
            return False
        holder = existing.get("claimed_by")
        age = self.clock() - float(existing.get("claimed_epoch", existing.get("created_epoch", 0)))
        if holder and holder == ended_attempt:
            return True
        if attempt_id and holder == attempt_id:
            return age >= self.settings.retry_min_age_seconds
        return age > self.settings.start_timeout_seconds

    def _after_crash(self, bucket: str, job: JobSpec, existing: dict[str, Any], token: str) -> StartOutcome:
        """This attempt took over a claim whose holder died: start over unless a unit may have been spent."""
        if existing.get("phase") == CREATING:
            return self._fail_with(job, _start_interrupted(
                "Starting the job was interrupted (a timeout or crash) while the vendor task was being created: "
                "the task may exist and be billed, so it was not created again."))
        logger.warning("earlier attempt interrupted before spending anything; starting over")
        return self._run(bucket, job, token)

    def _on_duplicate(self, job: JobSpec, existing: dict[str, Any]) -> StartOutcome:
        state = existing.get("state")
        _warn_if_changed(job, existing)
        if state == SUBMITTED and existing.get("task_id"):
            # The task exists but the execution may not have started (crash in between): start it, by name and
            # with the same input, so that a start racing the original one is the same execution (idempotent).
            self._start_execution(job.job_id, str(existing["task_id"]), _number(existing.get("interval_seconds")))
            return StartOutcome("resumed", job.job_id)
        logger.info("duplicate event ignored", extra={"state": state})
        return StartOutcome("duplicate", job.job_id, str(state))

    def _fail(self, job: JobSpec, exc: Exception) -> StartOutcome:
        return self._fail_with(job, ErrorReport.from_exception(exc))

    def _fail_with(self, job: JobSpec, report: ErrorReport) -> StartOutcome:
        logger.warning("job rejected", extra={"code": report.code})
        self._record_failure(job.job_id, report)
        return StartOutcome("failed", job.job_id, report.code)

    def _record_failure(self, job_id: str, report: ErrorReport) -> None:
        if self.store.mark_failed(job_id, report):
            self.results.write_error(job_id, report, self.store.get(job_id))

    def _give_back(self, job: JobSpec, token: str, exc: YouCamError) -> StartOutcome:
        """Nothing was spent: release the claim and fail the invocation so that Lambda retries the event."""
        self.store.release(job.job_id, token)
        raise VendorUnavailable(f"vendor unavailable before the task was created: {exc}") from exc


def _start_interrupted(message: str) -> ErrorReport:
    return ErrorReport("StartInterrupted", "start_interrupted", message,
                       "Check the vendor console for the task, then re-run with a new \"run\" number.")


def _uncertain_create(exc: YouCamError) -> ErrorReport:
    return ErrorReport(
        "TaskCreateUncertain", "task_create_uncertain",
        f"The vendor failed while creating the task ({exc}); it may have created, and billed, it anyway.",
        "Check the vendor console for a task created at this time. If there is none, re-run with a new \"run\" "
        "number (or deploy with faceswap:retry_create_on_server_error=true to retry such failures).",
        exc.code)


def _warn_if_changed(job: JobSpec, existing: dict[str, Any]) -> None:
    """A re-upload under the same job id is not a new job: say so in the logs, with the way to run it again."""
    if (existing.get("video_key"), existing.get("face_key")) != (job.video_key, job.face_key):
        logger.warning("upload ignored: this job id already exists; set \"run\" to a new number to run again",
                       extra={"existing_video_key": existing.get("video_key"), "video_key": job.video_key,
                              "existing_face_key": existing.get("face_key"), "face_key": job.face_key})


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None


@contextmanager
def _missing_file_is_rejected(key: str, what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise JobRejected("missing_file", f"The {what} {key} does not exist in the bucket.",
                              f"Upload the {what} first, then the manifest that names it.") from exc
        raise
