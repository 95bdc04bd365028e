"""The events that start functions, as Powertools' parser models: a message of the start queue (an S3 notification,
S3's test event, or a job the start function sent back to wait) and an execution's status change (EventBridge)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, S3Model, SqsRecordModel
from aws_lambda_powertools.utilities.parser.models.s3 import (
    S3Bucket,
    S3Identity,
    S3Message,
    S3OwnerIdentify,
    S3RecordModel,
    S3RequestParameters,
    S3ResponseElements,
)
from pydantic import BaseModel, Json, ValidationError


# S3's notification, as Powertools models it, less four fields the local stack's S3 (moto 5.2.5) leaves out and
# nothing here reads (the requester, its request and the bucket owner): optional.
class _Bucket(S3Bucket):
    ownerIdentity: S3OwnerIdentify | None = None  # type: ignore[assignment]


class _Message(S3Message):
    bucket: _Bucket


class UploadRecord(S3RecordModel):
    userIdentity: S3Identity | None = None  # type: ignore[assignment]
    requestParameters: S3RequestParameters | None = None  # type: ignore[assignment]
    responseElements: S3ResponseElements | None = None  # type: ignore[assignment]
    s3: _Message

    @property
    def bucket(self) -> str:
        return self.s3.bucket.name

    @property
    def key(self) -> str:
        """The object key, decoded (S3 event keys are URL-encoded)."""
        return unquote_plus(self.s3.object.key if self.s3.object else "")


class UploadEvent(S3Model):
    Records: list[UploadRecord]  # type: ignore[assignment]


class S3TestEvent(BaseModel):
    """What S3 sends once when a notification to the queue is configured: nothing to do."""

    Event: Literal["s3:TestEvent"]


class QueuedJob(BaseModel):
    """A job as its waiting message carries it: what JobSpec holds, so the manifest is not read again."""

    name: str
    video_key: str
    face_key: str
    run: int = 1
    source_key: str = ""
    face_check: bool = True


class Ticket(BaseModel):
    """The job's place in the admission queue (faceswap.admission.QueueTicket)."""

    number: int
    queued_at: float
    credit_short_since: float | None = None


class QueuedStart(BaseModel):
    """A job the start function sent back to its queue to wait: admission said wait, or the vendor pushed back.
    Only the message carrying the job's current `queue_token` may take it back (faceswap.claims)."""

    queued_start: Literal[1] = 1  # tells this body from an S3 notification
    job: QueuedJob
    queue_token: str
    ticket: Ticket
    reason: str


class StartQueueRecord(SqsRecordModel):
    """One message of the start queue, its body parsed."""

    body: Json[UploadEvent | QueuedStart | S3TestEvent]


class ExecutionStatusDetail(BaseModel):
    """`detail` of "Step Functions Execution Status Change"."""

    name: str  # the execution's name: the job id
    status: str  # FAILED | TIMED_OUT | ABORTED (the rule's pattern)
    input: str | None = None  # the execution's input, as JSON text
    error: str | None = None
    cause: str | None = None

    def task_id(self) -> str | None:
        """The vendor task id from the execution's input, for the log lines (None when it cannot be read)."""
        try:
            return _TaskOf.model_validate_json(self.input or "{}").task_id or None
        except ValidationError:
            return None


class _TaskOf(BaseModel):
    task_id: str | None = None  # of an ExecutionInput


class ExecutionStatusChange(EventBridgeModel):
    detail: ExecutionStatusDetail
