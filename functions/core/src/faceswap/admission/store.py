"""The ADMISSION item in the Jobs table, and the few requests admission makes on it (each one DynamoDB request).

    pk = "ADMISSION"
    version            N   bumped by every write of the versioned attributes (optimistic concurrency)
    holders            M   job id -> {u: units, a: admitted at, l: lease until, c: task created at (once created)}
    tokens, tokens_at  N   create-rate token bucket (refilled lazily from tokens_at)
    breaker_failures, breaker_openings, open_until   N   circuit breaker
    credit_balance, credit_read_at, charged          N   cached vendor balance, units charged since it was read
    hold_sum, hold_count                             N   slot hold times (added by release, decayed by admit)
    served             N   queue numbers that left the queue (ADDed, never SET: see below)
    served_at          N   when a numbered job last took a slot (free slots unclaimed since go to any job)

    pk = "ADMISSION#QUEUE"
    next_ticket        N   queue numbers handed out: ADDed by every job's first wait, without a read or condition

Size: ~70 bytes per holder (with a job id of ~24 characters), so thousands of holders fit in DynamoDB's 400 KB.
A write costs one WCU per KB of the item (~1-2 with the default 10 slots, ~28 with 500), which is why the queue
numbers, taken once by every waiting job (a burst of 100,000 takes them at hundreds per second), are in an item
of their own: 1 WCU each instead of the big item's size, well under a partition's 1,000 WCU/s. Both items are
read together (one strongly consistent BatchGetItem); `next_ticket` and `served` are only ever ADDed, so they
never conflict with the versioned writes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from faceswap import layout
from faceswap.admission.model import AdmissionState, Holder, Holders

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

ADMISSION_PK = layout.ADMISSION_KEY
QUEUE_SUFFIX = "#QUEUE"


class AdmissionStore(Protocol):
    """One method, one request. `write` and the holder updates bump `version`; tickets and `served` do not."""

    def read(self) -> AdmissionState | None: ...  # strongly consistent

    def write(self, state: AdmissionState, served_delta: int) -> bool: ...  # False: `state.version` is stale

    def take_ticket(self) -> int: ...

    def leave_queue(self) -> None: ...

    def mark_created(self, job_id: str, created_at: float, lease_until: float) -> bool: ...

    def release(self, job_id: str, held_seconds: float | None) -> bool: ...

    def reset_breaker(self) -> bool: ...


class DynamoAdmissionStore:
    def __init__(self, table: Table, pk: str = ADMISSION_PK) -> None:
        self._table = table
        self._key = {"pk": pk}
        self._queue_key = {"pk": pk + QUEUE_SUFFIX}

    def read(self) -> AdmissionState | None:
        """Both items in one strongly consistent request (retried for keys DynamoDB leaves unprocessed)."""
        client: Any = self._table.meta.client  # the resource's client: plain Python values in and out
        keys: list[dict[str, Any]] = [self._key, self._queue_key]
        found: dict[str, Any] = {}
        while keys:
            answer = client.batch_get_item(RequestItems={self._table.name: {"Keys": keys, "ConsistentRead": True}})
            found.update({item["pk"]: item for item in answer.get("Responses", {}).get(self._table.name, [])})
            keys = answer.get("UnprocessedKeys", {}).get(self._table.name, {}).get("Keys", [])
        if not found:
            return None
        queue = found.get(self._queue_key["pk"], {})
        return state_from_item({**found.get(self._key["pk"], {}), "next_ticket": queue.get("next_ticket", 0)})

    def write(self, state: AdmissionState, served_delta: int) -> bool:
        values: dict[str, Any] = {":h": {job: _holder_item(h) for job, h in state.holders.items()},
                                  ":t": _num(state.tokens), ":ta": _num(state.tokens_at),
                                  ":bf": state.breaker_failures, ":bo": state.breaker_openings,
                                  ":ou": _num(state.open_until), ":cr": _num(state.credit_read_at),
                                  ":ch": state.charged, ":hs": _num(state.hold_sum), ":hc": _num(state.hold_count),
                                  ":sa": _num(state.served_at), ":new": state.version + 1}
        sets = ("holders = :h, tokens = :t, tokens_at = :ta, breaker_failures = :bf, breaker_openings = :bo, "
                "open_until = :ou, credit_read_at = :cr, charged = :ch, hold_sum = :hs, hold_count = :hc, "
                "served_at = :sa, version = :new")
        if state.credit_balance is not None:
            sets += ", credit_balance = :cb"
            values[":cb"] = state.credit_balance
        update = f"SET {sets}"
        if served_delta:
            update += " ADD served :sd"
            values[":sd"] = served_delta
        if state.version:
            condition = "version = :old"
            values[":old"] = state.version
        else:
            condition = "attribute_not_exists(version)"
        return self._conditional(update, condition, values)

    def take_ticket(self) -> int:
        answer = self._table.update_item(Key=self._queue_key, UpdateExpression="ADD next_ticket :one",
                                         ExpressionAttributeValues={":one": 1}, ReturnValues="UPDATED_NEW")
        return int(answer["Attributes"]["next_ticket"])  # type: ignore[arg-type]

    def leave_queue(self) -> None:
        self._table.update_item(Key=self._key, UpdateExpression="ADD served :one",
                                ExpressionAttributeValues={":one": 1})

    def mark_created(self, job_id: str, created_at: float, lease_until: float) -> bool:
        """Once per holder: its units move from reserved to charged (the vendor deducts at create)."""
        return self._conditional(
            "SET holders.#j.c = :now, holders.#j.l = :lease, charged = charged + holders.#j.u ADD version :one",
            "attribute_exists(holders.#j) AND attribute_not_exists(holders.#j.c)",
            {":now": _num(created_at), ":lease": _num(lease_until), ":one": 1}, {"#j": job_id})

    def release(self, job_id: str, held_seconds: float | None) -> bool:
        """No read: one conditional update. False when the job held no slot (released before, or reclaimed)."""
        update, values = "REMOVE holders.#j ADD version :one", {":one": Decimal(1)}
        if held_seconds is not None:
            update += ", hold_sum :held, hold_count :one"
            values[":held"] = _num(held_seconds)
        return self._conditional(update, "attribute_exists(holders.#j)", values, {"#j": job_id})

    def reset_breaker(self) -> bool:
        return self._conditional(
            "SET breaker_failures = :zero, breaker_openings = :zero, open_until = :zero ADD version :one",
            "breaker_failures > :zero", {":zero": 0, ":one": 1})

    def _conditional(self, update: str, condition: str, values: dict[str, Any],
                     names: dict[str, str] | None = None) -> bool:
        request: dict[str, Any] = {"Key": self._key, "UpdateExpression": update, "ConditionExpression": condition,
                                   "ExpressionAttributeValues": values}
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            self._table.update_item(**request)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise


def state_from_item(item: dict[str, Any]) -> AdmissionState:
    next_ticket, served = int(item.get("next_ticket", 0)), int(item.get("served", 0))
    if "version" not in item:  # only counters so far (a ticket taken before the first versioned write)
        return AdmissionState(tokens=0.0, tokens_at=0.0, next_ticket=next_ticket, served=served)
    balance = item.get("credit_balance")
    return AdmissionState(
        tokens=float(item["tokens"]), tokens_at=float(item["tokens_at"]),
        holders=Holders({job: _holder(h) for job, h in item.get("holders", {}).items()}),
        breaker_failures=int(item["breaker_failures"]), breaker_openings=int(item["breaker_openings"]),
        open_until=float(item["open_until"]), credit_balance=int(balance) if balance is not None else None,
        credit_read_at=float(item["credit_read_at"]), charged=int(item["charged"]),
        hold_sum=float(item["hold_sum"]), hold_count=float(item["hold_count"]), version=int(item["version"]),
        next_ticket=next_ticket, served=served, served_at=float(item.get("served_at", 0)))


def _holder_item(holder: Holder) -> dict[str, Any]:
    item = {"u": holder.units, "a": _num(holder.admitted_at), "l": _num(holder.lease_until)}
    if holder.created_at is not None:
        item["c"] = _num(holder.created_at)
    return item


def _holder(item: dict[str, Any]) -> Holder:
    created = item.get("c")
    return Holder(int(item["u"]), float(item["a"]), float(item["l"]),
                  float(created) if created is not None else None)


def _num(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))
