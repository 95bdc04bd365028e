"""Job records in DynamoDB: who owns a job (first writer wins), where it is, and the webhook callback token.

Items:  JOB#<job_id>   state, keys, vendor task id, units, timings, error; while STARTING also the claiming
                       attempt (the Lambda request id, kept by Lambda's retries of an event), its phase and a
                       fencing token: every later write of the start function requires its own token, so an
                       attempt whose claim was taken over can no longer spend, record or release anything
        TASK#<task_id> job_id, callback token, webhook status and delivery ids (whichever of token/webhook
                       arrives second signals: see faceswap.callbacks)
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from faceswap.errors import ErrorReport
from faceswap.layout import FAILED, PARTITION_KEY, STARTING, SUBMITTED, SUCCEEDED, TTL_ATTRIBUTE, job_key, task_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from faceswap.jobs import JobSpec  # typing only: the job store does not need the manifest

CREATING = "creating"  # phase of a STARTING job once the vendor task may exist (the create call was sent)
RECORD_TTL_SECONDS = 90 * 24 * 3600
TASK_TTL_SECONDS = 2 * 24 * 3600  # the vendor forgets task ids after 24 h


class ClaimLost(Exception):
    """Another attempt took this job's claim over: this one must stop, spending and writing nothing more."""


@dataclass(frozen=True)
class Claim:
    won: bool
    existing: dict[str, Any] | None = None
    token: str = ""  # this attempt's fencing token, when it won


@dataclass(frozen=True)
class CallbackState:
    """The callback half of a TASK item: as written by `store_token` (after), or found by `record_webhook` (before)."""

    token: str | None
    webhook_status: str | None
    job_id: str | None = None
    webhook_ids: frozenset[str] = frozenset()  # every delivery id recorded for the task: a repeat is a duplicate


class JobStore:
    def __init__(self, table: Table, clock: Any = time.time) -> None:
        self._table = table
        self._clock = clock

    def claim(self, job: JobSpec, attempt_id: str = "") -> Claim:
        """Conditional put: exactly one of any number of concurrent duplicate events gets the job."""
        now = self._clock()
        item: dict[str, Any] = {
                PARTITION_KEY: job_key(job.job_id), "job_id": job.job_id, "name": job.name, "run": job.run,
                "state": STARTING, "video_key": job.video_key, "face_key": job.face_key,
                "source_key": job.source_key, "created_at": _iso(now), "created_epoch": int(now),
                TTL_ATTRIBUTE: int(now) + RECORD_TTL_SECONDS, "claimed_by": attempt_id, "claimed_epoch": int(now),
                "claim_token": _new_token()}
        try:
            self._table.put_item(Item=item, ConditionExpression=f"attribute_not_exists({PARTITION_KEY})")
            return Claim(True, token=item["claim_token"])
        except ClientError as exc:
            if _is_condition_failure(exc):
                return Claim(False, self.get(job.job_id))
            raise

    def release(self, job_id: str, token: str) -> None:
        """Give a claim back (nothing was spent yet) so that the event's retry can take it again; a claim another
        attempt took over is not ours to delete any more."""
        try:
            self._table.delete_item(Key=_job_key(job_id), **_held_by(token))
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise

    def take_over(self, job_id: str, existing: dict[str, Any], attempt_id: str) -> str | None:
        """Move an abandoned STARTING claim, as it was read in `existing`, to this attempt: its new token, or None
        when another attempt moved it first (the token changes with every move, so only one can)."""
        seen = existing.get("claim_token")
        token = _new_token()
        values: dict[str, Any] = {":me": attempt_id, ":token": token, ":now": int(self._clock()),
                                  ":starting": STARTING}
        if seen:
            values[":seen"] = seen
        try:
            self._table.update_item(
                Key=_job_key(job_id),
                UpdateExpression="SET claimed_by = :me, claim_token = :token, claimed_epoch = :now",
                ConditionExpression="#s = :starting AND " + (
                    "claim_token = :seen" if seen else "attribute_not_exists(claim_token)"),  # records of old code
                ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues=values)
            return token
        except ClientError as exc:
            if _is_condition_failure(exc):
                return None
            raise

    def mark_creating(self, job_id: str, token: str) -> None:
        """Set just before the create-task call, once per job: from here on a crash may leave a billed task nobody
        recorded. ClaimLost when another attempt holds the claim (or already got this far)."""
        held = _held_by(token)
        # claimed_epoch restarts: the age at which a same-request-id delivery counts as a retry is from here.
        self._fenced_update(job_id, "SET phase = :creating, claimed_epoch = :now",
                            held["ConditionExpression"] + " AND attribute_not_exists(phase)",
                            {**held["ExpressionAttributeValues"], ":creating": CREATING,
                             ":now": int(self._clock())})

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=_job_key(job_id), ConsistentRead=True).get("Item")

    def mark_submitted(self, job_id: str, token: str, task_id: str, units: int, duration_seconds: float,
                       interval_seconds: int) -> None:
        """`interval_seconds` is the first poll's wait: a resumed start passes the same execution input.
        ClaimLost when another attempt took the claim over meanwhile (it then owns the job's outcome)."""
        now = self._clock()
        held = _held_by(token)
        self._fenced_update(
            job_id, "SET #s = :s, task_id = :t, units = :u, duration_seconds = :d, submitted_at = :now, "
                    "interval_seconds = :i",
            held["ConditionExpression"],
            {**held["ExpressionAttributeValues"], ":s": SUBMITTED, ":t": task_id, ":u": units,
             ":d": str(round(duration_seconds, 3)), ":now": _iso(now), ":i": interval_seconds})
        # An update, not a put: a token stored first (a resumed execution) must survive.
        self._table.update_item(Key=_task_key(task_id), UpdateExpression=f"SET job_id = :j, {TTL_ATTRIBUTE} = :e",
                                ExpressionAttributeValues={":j": job_id, ":e": int(now) + TASK_TTL_SECONDS})

    def _fenced_update(self, job_id: str, update: str, condition: str, values: dict[str, Any]) -> None:
        try:
            self._table.update_item(Key=_job_key(job_id), UpdateExpression=update,
                                    ConditionExpression=condition, ExpressionAttributeNames={"#s": "state"},
                                    ExpressionAttributeValues=values)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ClaimLost(job_id) from exc
            raise

    def mark_succeeded(self, job_id: str, output_key: str) -> bool:
        return self._finish(job_id, SUCCEEDED, {"output_key": output_key})

    def mark_failed(self, job_id: str, report: ErrorReport) -> bool:
        """First final state wins: a later failure report never overwrites a success or an earlier cause."""
        return self._finish(job_id, FAILED, {"error": report.to_dict()})

    def store_token(self, task_id: str, token: str) -> CallbackState:
        """The item after the write (ALL_NEW): it holds the webhook status if a delivery was recorded first."""
        item = self._table.update_item(
            Key=_task_key(task_id), UpdateExpression="SET callback_token = :t",
            ExpressionAttributeValues={":t": token}, ReturnValues="ALL_NEW",
        )["Attributes"]
        return _callback_state(item)

    def record_webhook(self, task_id: str, task_status: str, webhook_id: str) -> CallbackState | None:
        """One conditional write; returns the item as it was before it (ALL_OLD): the token if it was stored
        first, the job id, the delivery ids recorded before. None when the task is unknown: nothing is created
        for ids we never submitted."""
        try:
            response = self._table.update_item(
                Key=_task_key(task_id),
                UpdateExpression="SET webhook_status = :s, webhook_received_at = :now ADD webhook_ids :id",
                ConditionExpression=f"attribute_exists({PARTITION_KEY})",
                ExpressionAttributeValues={":s": task_status, ":now": _iso(self._clock()), ":id": {webhook_id}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return None
            raise
        return _callback_state(response.get("Attributes", {}))

    def _finish(self, job_id: str, state: str, fields: dict[str, Any]) -> bool:
        sets = ", ".join(f"#{k} = :{k}" for k in fields)
        try:
            self._table.update_item(
                Key=_job_key(job_id),
                UpdateExpression=f"SET #s = :s, finished_at = :now, {sets}",
                ConditionExpression=f"attribute_exists({PARTITION_KEY}) AND NOT #s IN (:succeeded, :failed)",
                ExpressionAttributeNames={"#s": "state", **{f"#{k}": k for k in fields}},
                ExpressionAttributeValues={":s": state, ":now": _iso(self._clock()), ":succeeded": SUCCEEDED,
                                           ":failed": FAILED, **{f":{k}": v for k, v in fields.items()}},
            )
            return True
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise


def _new_token() -> str:
    return uuid.uuid4().hex


def _held_by(token: str) -> dict[str, Any]:
    """The condition that this attempt still holds the job's STARTING claim."""
    return {"ConditionExpression": "#s = :starting AND claim_token = :mine",
            "ExpressionAttributeNames": {"#s": "state"},
            "ExpressionAttributeValues": {":starting": STARTING, ":mine": token}}


def _job_key(job_id: str) -> dict[str, str]:
    return {PARTITION_KEY: job_key(job_id)}


def _task_key(task_id: str) -> dict[str, str]:
    return {PARTITION_KEY: task_key(task_id)}


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _callback_state(item: dict[str, Any]) -> CallbackState:
    return CallbackState(_str_or_none(item.get("callback_token")), _str_or_none(item.get("webhook_status")),
                         _str_or_none(item.get("job_id")), frozenset(map(str, item.get("webhook_ids", ()))))


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
