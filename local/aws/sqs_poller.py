"""One SQS event source mapping, polled the way Lambda polls it.

A receiver thread long-polls the queue (WaitTimeSeconds, on the stack's time scale) only while the mapping has a free
concurrency slot (`MaximumConcurrency`; without it, as many as the local runtime runs of one function at once), so
at the cap messages stay in the queue, as on AWS.
A batch holds up to BatchSize messages: what one receive returns, or with MaximumBatchingWindowInSeconds what
arrives until the window (scaled) closes. Each batch runs on its own thread: the function is invoked synchronously
with Lambda's SQS event; then
- success: the batch is deleted; with ReportBatchItemFailures only the messages not reported failed (a malformed
  response fails the whole batch);
- a function error (exception, timeout, crash): nothing is deleted; the messages come back after the queue's
  visibility timeout, and SQS moves one received maxReceiveCount times to the dead-letter queue (sqs_queues.py).
Messages that match none of the mapping's filters are deleted without an invocation.
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.aws import sqs_queues
from local.aws.event_batches import Counters, MappingConfig, RecordFilter, failed_items, sqs_filter_view
from local.aws.time_warp import scaled

# (function ARN, event) -> (payload, is_error): a synchronous invocation through the local Lambda runtime.
Invoke = Callable[[str, dict[str, Any]], tuple[str, bool]]
MAX_RECEIVE = 10  # ReceiveMessage's MaxNumberOfMessages limit
LOG = logging.getLogger(__name__)
LONG_POLL_S = 1.0  # real seconds a long poll lasts at most, whatever the time scale (stop() waits that long)


class SqsPoller:
    def __init__(self, config: MappingConfig, invoke: Invoke, sqs: Any, concurrency: int,
                 counters: Counters | None = None) -> None:
        self.config = config
        self.counters = counters or Counters()
        self._invoke = invoke
        self._sqs = sqs
        self._filter = RecordFilter(config.patterns)
        arn = config.source_arn.split(":")
        self._region = arn[3]
        self._url = sqs.get_queue_url(QueueName=arn[5], QueueOwnerAWSAccountId=arn[4])["QueueUrl"]
        self._slots = threading.BoundedSemaphore(concurrency)
        self._workers = ThreadPoolExecutor(concurrency, thread_name_prefix=f"sqs-esm-{arn[5]}")
        self._stop = threading.Event()
        self._busy = 0  # batches received and not yet settled
        self._busy_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"sqs-esm-{arn[5]}", daemon=True)

    def start(self) -> SqsPoller:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """Stops receiving and waits for the batches being processed."""
        self.request_stop()
        self._thread.join()
        self._workers.shutdown(wait=True)

    def looked_since(self, moment: float) -> bool:
        return True  # quiet() asks the queue itself

    def quiet(self) -> bool:
        """Nothing visible, in flight or delayed in the queue, and no batch being processed."""
        with self._busy_lock:
            if self._busy:
                return False
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]
        attributes = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=names)["Attributes"]
        return all(int(attributes.get(name, 0)) == 0 for name in names)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=LONG_POLL_S):
                continue
            try:
                batch = self._receive_batch()
            except Exception:  # the server going away at shutdown; else retried on the next turn
                batch = []
                self._stop.wait(LONG_POLL_S)
            if not batch:
                self._slots.release()
                continue
            with self._busy_lock:
                self._busy += 1
            self._workers.submit(self._settle_and_release, batch)

    def _receive_batch(self) -> list[dict[str, Any]]:
        """The first receive long-polls; a batching window keeps receiving until BatchSize or its end."""
        wanted = self.config.batch_size
        batch = self._receive(min(MAX_RECEIVE, wanted), _long_poll_seconds())
        window_end = time.monotonic() + scaled(self.config.window_s)
        while batch and len(batch) < wanted and not self._stop.is_set():
            remaining = window_end - time.monotonic()
            if remaining <= 0:
                break
            wait = min(20, math.ceil(remaining / sqs_queues.time_scale()), _long_poll_seconds())
            batch += self._receive(min(MAX_RECEIVE, wanted - len(batch)), wait)
        return batch

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=count, WaitTimeSeconds=wait_s,
                                             AttributeNames=["All"], MessageAttributeNames=["All"])
        messages: list[dict[str, Any]] = response.get("Messages", [])
        self.counters.add(records_received=len(messages))
        return messages

    def _settle_and_release(self, messages: list[dict[str, Any]]) -> None:
        try:
            self._settle(messages)
        except Exception:  # the messages come back after their visibility timeout, as after a crash
            LOG.exception("settling a batch of %s failed", self.config.source_arn)
        finally:
            with self._busy_lock:
                self._busy -= 1
            self._slots.release()

    def _settle(self, messages: list[dict[str, Any]]) -> None:
        self.counters.add(batches=1)
        records = [sqs_record(m, self.config.source_arn, self._region) for m in messages]
        matching = [r for r in records if self._filter.matches(sqs_filter_view(r))]
        if len(matching) < len(records):
            dropped = [r for r in records if r not in matching]
            self.counters.add(records_filtered=len(dropped))
            self._delete(dropped)
        if not matching:
            return
        with self.counters.invoking():
            payload, is_error = self._invoke(self.config.function_arn, {"Records": matching})
        failed = self._failed(payload, is_error, [r["messageId"] for r in matching])
        done = [r for r in matching if r["messageId"] not in failed]
        self.counters.add(messages_returned=len(matching) - len(done), messages_deleted=len(done))
        self._delete(done)

    def _failed(self, payload: str, is_error: bool, ids: list[str]) -> set[str]:
        """The message ids to leave in the queue."""
        if is_error:
            self.counters.add(function_errors=1)
            return set(ids)
        if not self.config.report_failures:
            return set()  # without ReportBatchItemFailures Lambda ignores the response
        failed = failed_items(payload, ids)
        if failed is None:
            self.counters.add(function_errors=1)
            return set(ids)
        return set(failed)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), MAX_RECEIVE):
            entries = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                       for i, r in enumerate(records[start:start + MAX_RECEIVE])]
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries)


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: str(v) for k, v in message.get("Attributes", {}).items() if v is not None},
        "messageAttributes": {name: _message_attribute(value)
                              for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def _long_poll_seconds() -> int:
    """WaitTimeSeconds (declared, 1-20) that lasts about LONG_POLL_S on the queues' time scale (which may differ
    from the stack's: the pipeline runs SQS in real time), so that stop() never waits for a long poll longer."""
    return max(1, min(20, round(LONG_POLL_S / sqs_queues.time_scale())))

