"""The start function's hold on a job: claimed once, fenced, queued and taken back, then submitted.

A JOB# record moves   (none) ─claim─> STARTING ─mark_queued─> QUEUED ─take_queued─> STARTING ─mark_submitted─> SUBMITTED
and an attempt's every write requires the fencing token it got when it took the claim (`claim`, `take_queued` or
`take_over`), so an attempt whose claim was taken over can no longer spend, record or queue anything.

- A STARTING claim older than the function can run belongs to a dead attempt (a timeout or crash): `take_over`.
- A QUEUED job waits in the start queue; only the message that carries its current `queue_token` may take it
  back (a duplicate event, or an older copy of the message, finds another token and is dropped), so a job never
  has two live messages and never runs twice.
- `phase = creating` is set once per create-task call: a crash after it may have left a billed task nobody
  recorded; a 429 answer (nothing created) clears it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from faceswap.layout import PARTITION_KEY, QUEUED, STARTING, SUBMITTED, TTL_ATTRIBUTE, job_key, task_key
from faceswap.records import RECORD_TTL_SECONDS, TASK_TTL_SECONDS, ClaimLost, is_condition_failure, iso

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.service_resource import Table

    from faceswap.jobs import JobSpec

CREATING = "creating"  # phase of a STARTING job once the vendor task may exist (the create call was sent)
Taken = tuple[str, dict[str, Any]]  # a moved claim: this attempt's new fencing token, and the record after the move


@dataclass(frozen=True)
class Claim:
    won: bool
    existing: dict[str, Any] | None = None
    token: str = ""  # this attempt's fencing token, when it won


@dataclass(frozen=True)
class InputFacts:
    """What the header checks measured, kept on the record so that a queued job is not checked again."""

    video_bytes: int
    face_bytes: int
    duration_seconds: float

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> InputFacts | None:
        if "video_bytes" not in record:
            return None
        return cls(int(record["video_bytes"]), int(record["face_bytes"]), float(record["duration_seconds"]))


class Claims:
    def __init__(self, table: Table, clock: Callable[[], float]) -> None:
        self._table = table
        self._clock = clock

    def claim(self, job: JobSpec, attempt_id: str) -> Claim:
        """Conditional put: exactly one of any number of concurrent duplicate events gets the job."""
        now = self._clock()
        item: dict[str, Any] = {
            PARTITION_KEY: job_key(job.job_id), "job_id": job.job_id, "name": job.name, "run": job.run,
            "state": STARTING, "video_key": job.video_key, "face_key": job.face_key, "source_key": job.source_key,
            "face_check": job.face_check, "created_at": iso(now), "created_epoch": int(now),
            TTL_ATTRIBUTE: int(now) + RECORD_TTL_SECONDS, "claimed_by": attempt_id, "claimed_epoch": int(now),
            "claim_token": new_token()}
        try:
            self._table.put_item(Item=item, ConditionExpression=f"attribute_not_exists({PARTITION_KEY})")
            return Claim(True, token=item["claim_token"])
        except ClientError as exc:
            if is_condition_failure(exc):
                return Claim(False, self._get(job.job_id))
            raise

    def release(self, job_id: str, token: str) -> None:
        """Give a fresh claim back (nothing was checked or spent) so that the message's retry starts over; a claim
        another attempt took over is not ours to delete any more."""
        try:
            self._table.delete_item(Key=_key(job_id), ExpressionAttributeNames={"#s": "state"}, **_held_by(token))
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def take_over(self, job_id: str, existing: dict[str, Any], attempt_id: str) -> Taken | None:
        """Move an abandoned STARTING claim, as it was read in `existing`, to this attempt: its new token and the
        record, or None when another attempt moved it first (the token changes with every move, so only one can)."""
        seen = existing.get("claim_token")
        if not seen:  # a record written before claims had tokens
            return self._move(job_id, attempt_id, "#s = :from AND attribute_not_exists(claim_token)",
                              {":from": STARTING})
        return self._move(job_id, attempt_id, "#s = :from AND claim_token = :seen", {":from": STARTING, ":seen": seen})

    def take_queued(self, job_id: str, attempt_id: str, queue_token: str) -> Taken | None:
        """Take a QUEUED job back for the message that carries its current queue token: the new claim token and the
        record, or None (the job is not queued, or another message is its live one)."""
        return self._move(job_id, attempt_id, "#s = :from AND queue_token = :seen",
                          {":from": QUEUED, ":seen": queue_token}, "REMOVE queue_token")

    def mark_queued(self, job_id: str, token: str, queue_token: str, reason: str, queued_since: float,
                    facts: InputFacts) -> bool:
        """The job goes back to the queue; its message carries `queue_token`. True the first time it is queued.
        The claim is given up (no attempt holds a queued job), so is a `creating` phase: the create call, if any,
        was answered 429 (nothing created)."""
        held = _held_by(token)
        old = self._update(job_id, "SET #s = :queued, queue_token = :qt, queue_reason = :why, "
                                   "queued_since = if_not_exists(queued_since, :since), video_bytes = :vb, "
                                   "face_bytes = :fb, duration_seconds = :d REMOVE claim_token, phase",
                           held["ConditionExpression"],
                           {**held["ExpressionAttributeValues"], ":queued": QUEUED, ":qt": queue_token,
                            ":why": reason, ":since": iso(queued_since), ":vb": facts.video_bytes,
                            ":fb": facts.face_bytes, ":d": str(round(facts.duration_seconds, 3))}, "ALL_OLD")
        return "queued_since" not in old

    def record_vendor_files(self, job_id: str, token: str, src: str, ref: str) -> None:
        """Upload mode: the vendor's file ids of both inputs, so that a retried start does not upload again."""
        held = _held_by(token)
        self._update(job_id, "SET vendor_files = :files", held["ConditionExpression"],
                     {**held["ExpressionAttributeValues"],
                      ":files": {"src": src, "ref": ref, "uploaded_epoch": int(self._clock())}})

    def mark_creating(self, job_id: str, token: str, admitted_epoch: float) -> None:
        """Set just before the create-task call: from here on a crash may leave a billed task nobody recorded.
        ClaimLost when another attempt holds the claim (or already got this far). `admitted_epoch`: when the
        job got its slot (the slot's hold time is measured from it)."""
        held = _held_by(token)
        # claimed_epoch restarts: a claim is abandoned once it is older than the function can run, from here.
        self._update(job_id, "SET phase = :creating, claimed_epoch = :now, admitted_epoch = :admitted",
                     held["ConditionExpression"] + " AND attribute_not_exists(phase)",
                     {**held["ExpressionAttributeValues"], ":creating": CREATING, ":now": int(self._clock()),
                      ":admitted": int(admitted_epoch)})

    def mark_submitted(self, job_id: str, token: str, task_id: str, units: int, duration_seconds: float,
                       interval_seconds: int) -> None:
        """`interval_seconds` is the first poll's wait: a resumed start passes the same execution input.
        ClaimLost when another attempt took the claim over meanwhile (it then owns the job's outcome)."""
        now = self._clock()
        held = _held_by(token)
        self._update(job_id, "SET #s = :s, task_id = :t, units = :u, duration_seconds = :d, submitted_at = :now, "
                             "interval_seconds = :i REMOVE queue_reason",
                     held["ConditionExpression"],
                     {**held["ExpressionAttributeValues"], ":s": SUBMITTED, ":t": task_id, ":u": units,
                      ":d": str(round(duration_seconds, 3)), ":now": iso(now), ":i": interval_seconds})
        # An update, not a put: a token stored first (a resumed execution) must survive.
        self._table.update_item(Key={PARTITION_KEY: task_key(task_id)},
                                UpdateExpression=f"SET job_id = :j, {TTL_ATTRIBUTE} = :e",
                                ExpressionAttributeValues={":j": job_id, ":e": int(now) + TASK_TTL_SECONDS})

    # --- helpers -------------------------------------------------------------------------------------------
    def _move(self, job_id: str, attempt_id: str, condition: str, values: dict[str, Any],
              also: str = "") -> Taken | None:
        token = new_token()
        try:
            record = self._update(job_id, f"SET #s = :starting, claimed_by = :me, claim_token = :token, "
                                          f"claimed_epoch = :now {also}", condition,
                                  {**values, ":starting": STARTING, ":me": attempt_id, ":token": token,
                                   ":now": int(self._clock())}, "ALL_NEW")
            return token, record
        except ClaimLost:
            return None

    def _update(self, job_id: str, update: str, condition: str, values: dict[str, Any],
                returns: str = "NONE") -> dict[str, Any]:
        try:
            answer = self._table.update_item(Key=_key(job_id), UpdateExpression=update,
                                             ConditionExpression=condition, ExpressionAttributeNames={"#s": "state"},
                                             ExpressionAttributeValues=values, ReturnValues=returns)  # type: ignore[arg-type]
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ClaimLost(job_id) from exc
            raise
        return dict(answer.get("Attributes", {}))

    def _get(self, job_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=_key(job_id), ConsistentRead=True).get("Item")


def new_token() -> str:
    return uuid.uuid4().hex


def _held_by(token: str) -> dict[str, Any]:
    """The condition that this attempt still holds the job's STARTING claim."""
    return {"ConditionExpression": "#s = :starting_now AND claim_token = :mine",
            "ExpressionAttributeValues": {":starting_now": STARTING, ":mine": token}}


def _key(job_id: str) -> dict[str, str]:
    return {PARTITION_KEY: job_key(job_id)}
