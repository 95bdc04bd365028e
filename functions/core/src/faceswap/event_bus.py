"""Puts job events on the EventBridge bus in the stream's order, each once in normal operation.

Lambda retries a DynamoDB-stream batch from the first record the function reports as failed, and every record after
that one comes again: whatever was already published past it would be published twice. So the publisher sends in
order, retries itself the entries EventBridge refuses one by one (`FailedEntryCount`: throttling, an internal
error), and only when one is still refused gives up there: it reports that record and sends nothing after it, and
Lambda's retry resumes at it. Only entries after a refused one in the same PutEvents call can then arrive twice
(consumers tell duplicates by jobId and sequence). A whole call that fails has been retried by the SDK already.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from faceswap.job_events import JobStateChange
from faceswap.layout import EVENT_DETAIL_TYPE, EVENT_SOURCE

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

logger = Logger(child=True)

MAX_ENTRIES = 10  # PutEvents takes at most 10 entries a call
RETRIES = 2  # more attempts for entries refused one by one, after BACKOFF_S, then twice that
BACKOFF_S = 0.2


@dataclass(frozen=True)
class Outgoing:
    record_id: str  # the stream record's sequence number: the batch item identifier Lambda retries from
    event: JobStateChange
    time: datetime.datetime | None = None  # when the change was written (the stream record's creation time)


class EventPublisher:
    def __init__(self, client: EventBridgeClient, bus: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._bus = bus
        self._sleep = sleep

    def publish(self, items: Sequence[Outgoing]) -> int:
        """Publishes `items` in order, up to the first one EventBridge keeps refusing: how many were published
        (all of them, normally). The ones after a refused one are not sent."""
        for start in range(0, len(items), MAX_ENTRIES):
            chunk = items[start:start + MAX_ENTRIES]
            refused = self._put(chunk)
            if refused is not None:
                item = chunk[refused]
                logger.error("job event not published: the stream's retry resumes at it", extra={
                    "job_id": item.event.job_id, "state": item.event.state, "record_id": item.record_id})
                return start + refused
        return len(items)

    def _put(self, chunk: Sequence[Outgoing]) -> int | None:
        """The index of the first entry still refused after the retries (None: all were put)."""
        pending = list(range(len(chunk)))
        for attempt in range(RETRIES + 1):
            if attempt:
                self._sleep(BACKOFF_S * 2 ** (attempt - 1))
            try:
                answer = self._client.put_events(Entries=[self._entry(chunk[i]) for i in pending])
            except (ClientError, BotoCoreError):
                logger.exception("PutEvents failed after the SDK's retries")
                return pending[0]
            refused = [(i, r) for i, r in zip(pending, answer["Entries"], strict=True) if r.get("ErrorCode")]
            for i, result in refused:
                logger.warning("EventBridge refused a job event", extra={
                    "job_id": chunk[i].event.job_id, "code": result.get("ErrorCode"),
                    "reason": result.get("ErrorMessage"), "attempt": attempt + 1})
            pending = [i for i, _ in refused]
            if not pending:
                return None
        return pending[0]

    def _entry(self, item: Outgoing) -> PutEventsRequestEntryTypeDef:
        entry: PutEventsRequestEntryTypeDef = {"Source": EVENT_SOURCE, "DetailType": EVENT_DETAIL_TYPE,
                                               "Detail": item.event.to_json(), "EventBusName": self._bus}
        if item.time is not None:
            entry["Time"] = item.time  # the event's `time`: when the job's record changed, not when it was sent
        return entry
