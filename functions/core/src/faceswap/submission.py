"""A claimed, checked job on its way to the vendor: admission, inputs, the create-task call, the record, the run.

    admission (a slot, a create token, credit)
        ├─send inputs─> upload both files (once per job), then admission again: the slot is taken only when the
        │               create can follow at once
        ├─wait─> (near the front: inputs uploaded, once) back to the start queue (QUEUED), with the delay it asks for
        └─admitted─> inputs (the uploaded ids, or presigned URLs) → mark "creating" → create task → record → run
A 429 or a timeout on the way (nothing created) is back-pressure, not a failure: the slot is given back, the
breaker counts it, and the job goes back to the queue after Retry-After. A 5xx or a lost answer of the create call
is ambiguous (the task may exist and be billed): it is reported, never retried blindly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from faceswap.admission import (
    AdmissionControl,
    AdmissionRequest,
    Admitted,
    Decision,
    QueueTicket,
    Refused,
    SendInputs,
    Wait,
)
from faceswap.errors import ErrorReport
from faceswap.events import QueuedJob, QueuedStart, Ticket
from faceswap.media import billable_units, dst_duration
from faceswap.polling import wait_seconds
from faceswap.records import ClaimLost
from faceswap.reports import StartOutcome, start_interrupted, uncertain_create
from faceswap.states import ExecutionInput
from faceswap.youcam.errors import RateLimited, ServerError, UploadRejected, YouCamError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_stepfunctions import SFNClient

    from faceswap.claims import Claims, InputFacts
    from faceswap.config import PipelineSettings
    from faceswap.jobs import JobSpec
    from faceswap.reports import Reporter
    from faceswap.requeue import StartQueue
    from faceswap.vendor_inputs import VendorInputs
    from faceswap.youcam.client import YouCamClient
    from faceswap.youcam.models import CreatedTask

logger = Logger(child=True)
RETRY_REASON = "retry"  # a job put back as it was after an unexpected fault (its message is retried)


@dataclass
class Submission:
    sfn: SFNClient
    claims: Claims
    admission: AdmissionControl
    inputs: VendorInputs
    queue: StartQueue
    report: Reporter
    settings: PipelineSettings
    vendor: Callable[[], YouCamClient]  # called only once the job is admitted or near the front
    clock: Callable[[], float]

    def submit(self, job: JobSpec, token: str, facts: InputFacts, record: dict[str, Any],
               ticket: QueueTicket | None = None) -> StartOutcome:
        request = AdmissionRequest(job.job_id, billable_units(facts.duration_seconds), ticket,
                                   inputs_sent=self.inputs.sent(record))
        decision = self._ask(job, request)
        if isinstance(decision, SendInputs):  # a slot is free: the inputs first, then the slot (asked again)
            sent = self._send_inputs(job, token, facts, record, request)
            if isinstance(sent, StartOutcome):
                return sent
            record, request = sent, replace(request, inputs_sent=True)
            decision = self._ask(job, request)
        if isinstance(decision, StartOutcome):
            return decision
        if isinstance(decision, Wait):
            if decision.inputs_ahead and not request.inputs_sent:
                sent = self._send_inputs(job, token, facts, record, request)
                if isinstance(sent, StartOutcome):
                    return sent
            return self.wait(job, token, facts, decision)
        if isinstance(decision, Refused):
            return self.report.failed(job.job_id, decision.report())
        assert isinstance(decision, Admitted), decision
        return self._admitted(job, token, facts, record, request)

    def _ask(self, job: JobSpec, request: AdmissionRequest) -> Decision | StartOutcome:
        try:
            return self.admission.try_admit(request)
        except YouCamError as exc:  # reading the balance: the vendor pushes back, or refuses the key
            if not exc.retryable:
                return self.report.failed(job.job_id, ErrorReport.from_exception(exc))
            return self.admission.vendor_busy(request, _retry_after(exc))

    def wait(self, job: JobSpec, token: str, facts: InputFacts, wait: Wait, queue_token: str = "") -> StartOutcome:
        """Back to the queue: the message first, then the record that names it (a crash in between leaves a message
        that cannot take the job, and this attempt's own message comes back)."""
        queue_token = queue_token or uuid.uuid4().hex
        t = wait.ticket
        self.queue.send(QueuedStart(job=QueuedJob(**vars(job)), queue_token=queue_token, reason=wait.reason,
                                    ticket=Ticket(number=t.number, queued_at=t.queued_at,
                                                  credit_short_since=t.credit_short_since)), wait.delay_seconds)
        first = self.claims.mark_queued(job.job_id, token, queue_token, wait.reason, t.queued_at, facts)
        self.report.queued(job.job_id, first, wait.reason, self.clock() - t.queued_at)
        return StartOutcome("queued", job.job_id, wait.reason)

    def _send_inputs(self, job: JobSpec, token: str, facts: InputFacts, record: dict[str, Any],
                     request: AdmissionRequest) -> dict[str, Any] | StartOutcome:
        """Upload mode: the inputs go to the vendor before the job holds a slot (once: the file ids are kept), when
        a slot is free for it (SendInputs) or it is near the front (Wait.inputs_ahead). Credit was checked; nothing
        is spent. Returns the record with the file ids, or how the job ended up (back to the queue after a 429, or
        failed on a refused file)."""
        try:
            return self.inputs.send_ahead(job, token, facts, record, self.vendor())
        except YouCamError as exc:
            if _back_pressure(exc):
                return self.wait(job, token, facts, self.admission.vendor_busy(request, _retry_after(exc)))
            return self.report.failed(job.job_id, ErrorReport.from_exception(exc))

    def _admitted(self, job: JobSpec, token: str, facts: InputFacts, record: dict[str, Any],
                  request: AdmissionRequest) -> StartOutcome:
        admitted_at = self.clock()
        client = self.vendor()
        try:
            files = self.inputs.for_task(job, token, facts, record, client)
        except YouCamError as exc:
            if _back_pressure(exc):
                return self.wait(job, token, facts, self.admission.vendor_busy(request, _retry_after(exc)))
            self.admission.release(job.job_id)
            return self.report.failed(job.job_id, ErrorReport.from_exception(exc))
        except BaseException:
            self.admission.release(job.job_id)  # the slot must not wait for its lease
            raise
        return self._create(job, token, facts, request, admitted_at, client, files)

    def _create(self, job: JobSpec, token: str, facts: InputFacts, request: AdmissionRequest, admitted_at: float,
                client: YouCamClient, files: dict[str, str]) -> StartOutcome:
        self.claims.mark_creating(job.job_id, token, admitted_at)  # ClaimLost: another attempt owns the job
        try:
            task = client.create_task(**files, dst_duration=dst_duration(facts.duration_seconds))
        except YouCamError as exc:
            if _not_created(exc, client):
                return self.wait(job, token, facts, self.admission.vendor_busy(request, _retry_after(exc)))
            self.admission.release(job.job_id)
            report = uncertain_create(exc) if exc.retryable else ErrorReport.from_exception(exc)
            return self.report.failed(job.job_id, report)
        self.admission.mark_created(job.job_id)
        self.admission.vendor_ok()
        return self._record(job, token, facts, task)

    def _record(self, job: JobSpec, token: str, facts: InputFacts, task: CreatedTask) -> StartOutcome:
        logger.append_keys(task_id=task.task_id)
        units, interval = billable_units(facts.duration_seconds), wait_seconds(task.polling_interval_seconds)
        try:
            self.claims.mark_submitted(job.job_id, token, task.task_id, units, facts.duration_seconds, interval)
        except ClaimLost:
            # Taken over while the task was being created: the other attempt reported the job as interrupted.
            self.report.error_only(job.job_id, start_interrupted(
                f"The vendor task {task.task_id} was created, but the job had meanwhile been reported as "
                "interrupted by another attempt, so it was not followed."))
            return StartOutcome("failed", job.job_id, "start_interrupted")
        except Exception:
            # The task exists and is billed but is not on record: say so where the user looks, then fail loudly.
            self.report.error_only(job.job_id, start_interrupted(
                f"The vendor task {task.task_id} was created but could not be recorded."))
            raise
        self.start_execution(job.job_id, task.task_id, interval)
        logger.info("job started", extra={"units": units, "duration_seconds": facts.duration_seconds})
        return StartOutcome("started", job.job_id, task.task_id)

    def start_execution(self, job_id: str, task_id: str, interval: float | None) -> None:
        """By name and with the same input: a start racing another one is the same execution (idempotent)."""
        try:
            self.sfn.start_execution(stateMachineArn=self.settings.state_machine_arn, name=job_id,
                                     input=ExecutionInput.first(job_id, task_id, wait_seconds(interval)).to_json())
        except self.sfn.exceptions.ExecutionAlreadyExists:
            logger.info("execution already exists")


def _back_pressure(exc: YouCamError) -> bool:
    """Before the task exists, a 429, a 5xx or a timeout only says "not now": nothing was spent."""
    return isinstance(exc, RateLimited | ServerError) or (isinstance(exc, UploadRejected) and exc.retryable)


def _not_created(exc: YouCamError, client: YouCamClient) -> bool:
    """A create answered 429 ("not processed", the one answer that proves nothing was created), or a 5xx where the
    deployer said a 5xx means "not created" (faceswap:retry_create_on_server_error): back-pressure, not a failure."""
    return isinstance(exc, RateLimited) or (isinstance(exc, ServerError) and client.server_error_means_not_created)


def _retry_after(exc: YouCamError) -> float | None:
    return exc.retry_after_seconds if isinstance(exc, RateLimited) else None
