"""Job records in DynamoDB: where a job is and how it ended, and where the webhook meets the callback token.

Items:  JOB#<job_id>   state, keys, vendor task id, units, timings, error; while the start function holds it, its
                       claim (faceswap.claims: the attempt, a fencing token, the phase; while QUEUED the token of
                       the job's live message)
        TASK#<task_id> job_id, callback token, webhook status and delivery ids (whichever of token/webhook
                       arrives second signals: see faceswap.callbacks)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from faceswap.errors import ErrorReport
from faceswap.layout import FAILED, PARTITION_KEY, SUCCEEDED, job_key, task_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

RECORD_TTL_SECONDS = 90 * 24 * 3600
TASK_TTL_SECONDS = 2 * 24 * 3600  # the vendor forgets task ids after 24 h


class ClaimLost(Exception):
    """Another attempt took this job's claim over: this one must stop, spending and writing nothing more."""


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

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self._table.get_item(Key=_job_key(job_id), ConsistentRead=True).get("Item")

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
                ExpressionAttributeValues={":s": task_status, ":now": iso(self._clock()), ":id": {webhook_id}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
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
                ExpressionAttributeValues={":s": state, ":now": iso(self._clock()), ":succeeded": SUCCEEDED,
                                           ":failed": FAILED, **{f":{k}": v for k, v in fields.items()}},
            )
            return True
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise


def _job_key(job_id: str) -> dict[str, str]:
    return {PARTITION_KEY: job_key(job_id)}


def _task_key(task_id: str) -> dict[str, str]:
    return {PARTITION_KEY: task_key(task_id)}


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _callback_state(item: dict[str, Any]) -> CallbackState:
    return CallbackState(_str_or_none(item.get("callback_token")), _str_or_none(item.get("webhook_status")),
                         _str_or_none(item.get("job_id")), frozenset(map(str, item.get("webhook_ids", ()))))


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
