"""Job events: one EventBridge event per state a job passes through, as AWS media services publish theirs
(MediaConvert's "MediaConvert Job State Change", Transcribe's "Transcribe Job State Change"). docs/events.md is
the consumer's reference.

The JOB# record is the outbox. Whoever changes a job's state writes it (the start function, Finalize, Record
failure, the execution-failed rule), and the Jobs table's stream (NEW_AND_OLD_IMAGES) hands every change, in order
per item, to the publisher, which asks `JobEvents.event_for` what the change means:

    record (old → new state)            event      note
    anything → QUEUED                   QUEUED     the first time only: a queued job keeps `queued_since`
    anything → SUBMITTED                STARTED    the vendor task exists
    anything → SUCCEEDED | FAILED       the same   the first final state wins (records.py): at most one
    → STARTING, same state, removal     none       a claim, a take-over, a released claim, TTL expiry

An upload rejected before any JOB# record exists (a bad manifest, a key outside the prefixes) leaves a
REJECTED#<upload key> item instead (`Rejections.record`); its insert, or a different rejection of the same key,
publishes FAILED, and the same rejection again publishes nothing.

`sequence` numbers a job's events 1, 2, 3... in the order the job passed through them: QUEUED if it was queued,
STARTED if its vendor task was created, then its final state. It is computed from the record alone, so an event
published twice (a retried batch) carries the same number: (jobId, sequence) identifies an event.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from faceswap.errors import ErrorReport
from faceswap.layout import (
    ERROR_NAME,
    FAILED,
    JOB_KEY_PREFIX,
    OUTPUT_NAME,
    PARTITION_KEY,
    QUEUED,
    REJECTED_KEY_PREFIX,
    STARTED,
    STATUS_NAME,
    SUBMITTED,
    SUCCEEDED,
    TTL_ATTRIBUTE,
    rejected_key,
    result_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Image = Mapping[str, Any]  # a stream record's image, deserialized (numbers are Decimal)
EventState = Literal["QUEUED", "STARTED", "SUCCEEDED", "FAILED"]
SCHEMA_VERSION = "1"
MAX_TEXT = 2048  # characters of an error message or fix kept in an event (PutEvents takes 256 KB an entry)
REJECTION_TTL_SECONDS = 24 * 3600  # how long the same rejected upload again publishes nothing
_EVENT_STATE: dict[str, EventState] = {QUEUED: QUEUED, SUBMITTED: STARTED, SUCCEEDED: SUCCEEDED, FAILED: FAILED}


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")


class EventInputs(_Camel):
    upload: str | None = None  # the object whose upload started the job (jobs/<name>.json, or the video)
    video: str | None = None
    face: str | None = None


class EventResults(_Camel):
    """Where the job's files are: output.mp4 once it succeeded, status.json always, error.json once it failed."""

    status: str
    output: str | None = None
    error: str | None = None


class EventTimings(_Camel):
    created_at: str | None = None
    queued_at: str | None = None
    submitted_at: str | None = None
    finished_at: str | None = None


class EventError(_Camel):
    code: str
    message: str
    what_to_fix: str
    error_class: str | None = None
    vendor_code: str | None = None


class JobStateChange(_Camel):
    """`detail` of a "FaceSwap Job State Change" event (camelCase, as AWS's media services spell theirs)."""

    schema_version: str = SCHEMA_VERSION
    job_id: str
    state: EventState
    sequence: int
    bucket: str
    name: str | None = None
    run: int | None = None
    rejected: bool | None = None  # true: the upload was refused before it became a job (no JOB record)
    inputs: EventInputs = EventInputs()
    results: EventResults | None = None
    vendor_task_id: str | None = None
    units: int | None = None
    duration_seconds: float | None = None
    queue_reason: str | None = None
    timings: EventTimings = EventTimings()
    error: EventError | None = None

    def to_json(self) -> str:
        """The event's Detail: absent fields are left out rather than sent as null."""
        return self.model_dump_json(by_alias=True, exclude_none=True)


class JobEvents:
    """What a change of a JOB# or REJECTED# item means for the job's consumers."""

    def __init__(self, bucket: str, results_prefix: str) -> None:
        self._bucket = bucket
        self._results_prefix = results_prefix

    def event_for(self, old: Image | None, new: Image | None) -> JobStateChange | None:
        """The event of one stream record (its old and new image), or None when it is no state change."""
        if new is None:
            return None  # removed: a released claim, TTL expiry
        key = str(new.get(PARTITION_KEY, ""))
        if key.startswith(JOB_KEY_PREFIX):
            return self._job_change(old, new)
        if key.startswith(REJECTED_KEY_PREFIX):
            return self._rejection(old, new)
        return None

    def _job_change(self, old: Image | None, new: Image) -> JobStateChange | None:
        state = _EVENT_STATE.get(str(new.get("state")))
        if state is None or "job_id" not in new or (old is not None and old.get("state") == new.get("state")):
            return None
        if state == QUEUED and old is not None and "queued_since" in old:
            return None  # queued again (after a slot was lost, a breaker...): QUEUED is published once
        return JobStateChange(
            job_id=str(new["job_id"]), state=state, sequence=_sequence(state, new), bucket=self._bucket,
            name=_text(new.get("name")), run=_int(new.get("run")),
            inputs=EventInputs(upload=_text(new.get("source_key")), video=_text(new.get("video_key")),
                               face=_text(new.get("face_key"))),
            results=self._results(str(new["job_id"]), state), vendor_task_id=_text(new.get("task_id")),
            units=_int(new.get("units")), duration_seconds=_float(new.get("duration_seconds")),
            queue_reason=_text(new.get("queue_reason")) if state == QUEUED else None,
            timings=EventTimings(created_at=_text(new.get("created_at")), queued_at=_text(new.get("queued_since")),
                                 submitted_at=_text(new.get("submitted_at")),
                                 finished_at=_text(new.get("finished_at"))),
            error=_error(new.get("error")) if state == FAILED else None)

    def _rejection(self, old: Image | None, new: Image) -> JobStateChange | None:
        if "job_id" not in new or (old is not None and old.get("rejections") == new.get("rejections")):
            return None  # every write of `Rejections.record` counts one more rejection: anything else is no event
        job_id = str(new["job_id"])
        return JobStateChange(
            job_id=job_id, state=FAILED, sequence=_int(new.get("rejections")) or 1, bucket=self._bucket,
            rejected=True, inputs=EventInputs(upload=_text(new.get("upload_key"))),
            results=self._results(job_id, FAILED),
            timings=EventTimings(created_at=_text(new.get("rejected_at")), finished_at=_text(new.get("rejected_at"))),
            error=_error(new.get("error")))

    def _results(self, job_id: str, state: str) -> EventResults | None:
        if state not in (SUCCEEDED, FAILED):
            return None
        status, output, error = (result_key(job_id, name, self._results_prefix)
                                 for name in (STATUS_NAME, OUTPUT_NAME, ERROR_NAME))
        return EventResults(status=status, output=output if state == SUCCEEDED else None,
                            error=error if state == FAILED else None)


class Rejections:
    """The outbox of uploads rejected before they became jobs: one REJECTED#<upload key> item each, short-lived."""

    def __init__(self, table: Table, clock: Any = time.time) -> None:
        self._table = table
        self._clock = clock

    def record(self, job_id: str, upload_key: str, report: ErrorReport) -> bool:
        """Publishes the upload's FAILED event (through the stream) unless the same rejection of this key was
        recorded within REJECTION_TTL_SECONDS (a duplicate notification, a retry, the same file again): then
        nothing is written and False is returned. (TTL deletes expired items within days, not at once: an item
        past its expiry no longer counts.)"""
        digest = hashlib.sha256(json.dumps(report.to_dict(), sort_keys=True).encode()).hexdigest()[:32]
        now = self._clock()
        try:
            self._table.update_item(
                Key={PARTITION_KEY: rejected_key(upload_key)},
                UpdateExpression="SET job_id = :job, upload_key = :key, #state = :failed, #error = :error, "
                                 "error_digest = :digest, rejected_at = :now, #ttl = :expires ADD rejections :one",
                ConditionExpression=f"attribute_not_exists({PARTITION_KEY}) OR error_digest <> :digest OR "
                                    "#ttl < :epoch",
                ExpressionAttributeNames={"#state": "state", "#error": "error", "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":job": job_id, ":key": upload_key, ":failed": FAILED, ":error": report.to_dict(),
                    ":digest": digest, ":now": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                    ":epoch": int(now), ":expires": int(now) + REJECTION_TTL_SECONDS, ":one": 1})
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise


def _sequence(state: str, record: Image) -> int:
    """The event's place among the job's events: QUEUED (if queued), STARTED (if submitted), then the end."""
    queued, submitted = "queued_since" in record, "submitted_at" in record
    return {QUEUED: 1, STARTED: 1 + queued}.get(state, 1 + queued + submitted)


def _error(value: Any) -> EventError | None:
    if not isinstance(value, Mapping):
        return None
    return EventError(code=str(value.get("code") or "unknown"), message=_clip(value.get("message")),
                      what_to_fix=_clip(value.get("what_to_fix")), error_class=_text(value.get("error_class")),
                      vendor_code=_text(value.get("vendor_code")))


def _clip(value: Any) -> str:
    text = str(value or "")
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(Decimal(str(value)))
