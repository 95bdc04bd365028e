"""Start a job from a message of the start queue: an upload (S3's notification) or a job that waited.

Order matters for "no lost job, no double charge":
  claim (conditional put) → check the files (free: headers, face pre-check) → admission (a slot, a create token,
  credit) → inputs to the vendor → mark "creating" → create task (spends units) → record the task id → start the
  execution named after the job (idempotent).
A job that must wait goes back to the queue (QUEUED) and is taken back only by its own message (faceswap.claims).
An unexpected fault gives the job back as it was and fails the message, which SQS delivers again.
A hard crash (timeout, out of memory) cannot give anything back: the claim stays STARTING until it is older than
the function can run; the message's next delivery then takes it over. Before "creating" nothing was spent and it
goes on; after, the task may exist and be billed, so it reports that instead of creating another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from faceswap.admission import QueueTicket
from faceswap.claims import CREATING, InputFacts
from faceswap.errors import ErrorReport, JobRejected
from faceswap.events import QueuedStart, S3TestEvent, StartQueueRecord
from faceswap.jobs import JobSpec, job_name_from_key
from faceswap.layout import STARTING, SUBMITTED
from faceswap.media import MediaInvalid
from faceswap.records import ClaimLost
from faceswap.reports import StartOutcome, start_interrupted
from faceswap.submission import RETRY_REASON

if TYPE_CHECKING:
    from collections.abc import Callable

    from faceswap.claims import Claims
    from faceswap.config import PipelineSettings
    from faceswap.intake import Intake
    from faceswap.job_events import Rejections
    from faceswap.records import JobStore
    from faceswap.reports import Reporter
    from faceswap.submission import Submission

logger = Logger(child=True)


@dataclass
class JobStarter:
    intake: Intake
    claims: Claims
    store: JobStore
    report: Reporter
    submission: Submission
    settings: PipelineSettings
    clock: Callable[[], float]
    rejections: Rejections | None = None  # the FAILED event of an upload refused before it became a job

    def handle(self, message: StartQueueRecord) -> list[StartOutcome]:
        """One message of the start queue: the uploads of an S3 notification, or one job that waited."""
        body = message.body
        if isinstance(body, S3TestEvent):
            return [StartOutcome("ignored", "", "s3:TestEvent")]
        if isinstance(body, QueuedStart):
            return [self.resume(body, message.messageId)]
        return [self.handle_upload(record.bucket, record.key, message.messageId) for record in body.Records]

    def handle_upload(self, bucket: str, key: str, attempt_id: str) -> StartOutcome:
        """`attempt_id`: the message id, the same for every delivery of one message."""
        try:
            job = self.intake.job_for(bucket, key)
        except JobRejected as exc:
            job_id, report = job_name_from_key(key), ErrorReport.from_exception(exc)
            self.report.error_only(job_id, report)
            if self.rejections is not None:  # no JOB# record exists: this upload's FAILED event has its own outbox
                self.rejections.record(job_id, key, report)
            return StartOutcome("rejected", job_id, exc.code)
        if job is None:
            return StartOutcome("waiting_for_manifest", job_name_from_key(key))
        logger.append_keys(job_id=job.job_id)
        claim = self.claims.claim(job, attempt_id)
        if claim.won:
            return self._guarded(job, claim.token, {}, lambda: self._check_then_submit(bucket, job, claim.token))
        return self._taken_over_or_duplicate(job, claim.existing or {}, attempt_id)

    def resume(self, message: QueuedStart, attempt_id: str) -> StartOutcome:
        """A job that waited in the queue, back for admission; checked before, so not checked again."""
        job = JobSpec(**message.job.model_dump())
        logger.append_keys(job_id=job.job_id)
        ticket = QueueTicket(message.ticket.number, message.ticket.queued_at, message.ticket.credit_short_since)
        taken = self.claims.take_queued(job.job_id, attempt_id, message.queue_token)
        if taken is None:
            return self._taken_over_or_duplicate(job, self.store.get(job.job_id) or {}, attempt_id, ticket,
                                                 message.queue_token)
        token, record = taken
        facts = InputFacts.from_record(record)
        assert facts is not None, "a queued job's record holds its checked facts"
        return self._guarded(job, token, record,
                             lambda: self.submission.submit(job, token, facts, record, ticket), message.queue_token)

    # --- steps ---------------------------------------------------------------------------------------------
    def _check_then_submit(self, bucket: str, job: JobSpec, token: str) -> StartOutcome:
        try:
            facts = self.intake.check(bucket, job)
        except (JobRejected, MediaInvalid) as exc:
            return self.report.failed(job.job_id, ErrorReport.from_exception(exc))
        return self.submission.submit(job, token, facts, {})

    def _guarded(self, job: JobSpec, token: str, record: dict[str, Any], step: Callable[[], StartOutcome],
                 queue_token: str = "") -> StartOutcome:
        """Runs `step` for a job this attempt holds. A fault nobody expected gives the job back as it was (a fresh
        claim is deleted, a queued job queued again under its own message) and fails the message, so that its next
        delivery starts from there."""
        try:
            return step()
        except ClaimLost:
            logger.info("another attempt took the claim over: stopping, nothing spent or written by this one")
            return StartOutcome("duplicate", job.job_id, "claim taken over")
        except Exception:
            facts = InputFacts.from_record(record)
            if facts is None or not queue_token:
                self.claims.release(job.job_id, token)
            else:
                self.claims.mark_queued(job.job_id, token, queue_token, RETRY_REASON, self.clock(), facts)
            raise

    def _taken_over_or_duplicate(self, job: JobSpec, existing: dict[str, Any], attempt_id: str,
                                 ticket: QueueTicket | None = None, queue_token: str = "") -> StartOutcome:
        if self._abandoned(existing):
            taken = self.claims.take_over(job.job_id, existing, attempt_id)
            if taken is not None:
                token, record = taken
                return self._guarded(job, token, record, lambda: self._after_crash(job, record, token, ticket),
                                     queue_token)
        return self._on_duplicate(job, existing)

    def _abandoned(self, existing: dict[str, Any]) -> bool:
        """A STARTING claim older than the start function can run: its holder died (a timeout, a crash)."""
        if existing.get("state") != STARTING:
            return False
        age = self.clock() - float(existing.get("claimed_epoch", existing.get("created_epoch", 0)))
        return age > self.settings.start_timeout_seconds

    def _after_crash(self, job: JobSpec, record: dict[str, Any], token: str,
                     ticket: QueueTicket | None) -> StartOutcome:
        """This attempt took over a claim whose holder died: go on unless a unit may have been spent."""
        if record.get("phase") == CREATING:
            return self.report.failed(job.job_id, start_interrupted(
                "Starting the job was interrupted (a timeout or crash) while the vendor task was being created: "
                "the task may exist and be billed, so it was not created again."))
        logger.warning("earlier attempt interrupted before spending anything; going on")
        facts = InputFacts.from_record(record)
        if facts is None:  # it died before the files were checked
            return self._check_then_submit(self.settings.bucket, job, token)
        return self.submission.submit(job, token, facts, record, ticket)

    def _on_duplicate(self, job: JobSpec, existing: dict[str, Any]) -> StartOutcome:
        state = existing.get("state")
        _warn_if_changed(job, existing)
        if state == SUBMITTED and existing.get("task_id"):
            # The task exists but the execution may not have started (crash in between): start it now.
            self.submission.start_execution(job.job_id, str(existing["task_id"]),
                                            _number(existing.get("interval_seconds")))
            return StartOutcome("resumed", job.job_id)
        logger.info("duplicate message ignored", extra={"state": state})
        return StartOutcome("duplicate", job.job_id, str(state))


def _warn_if_changed(job: JobSpec, existing: dict[str, Any]) -> None:
    """A re-upload under the same job id is not a new job: say so in the logs, with the way to run it again."""
    if (existing.get("video_key"), existing.get("face_key")) != (job.video_key, job.face_key):
        logger.warning("upload ignored: this job id already exists; set \"run\" to a new number to run again",
                       extra={"existing_video_key": existing.get("video_key"), "video_key": job.video_key,
                              "existing_face_key": existing.get("face_key"), "face_key": job.face_key})


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None
