"""One DynamoDB-stream event source mapping, polled the way Lambda polls it.

A thread reads each shard in order, a pass every POLL_S (Lambda polls 4 times a second), from TRIM_HORIZON or from
LATEST (the stream's end when polling starts). Records that match none of the mapping's filters are dropped; the
others form batches of up to BatchSize (MaximumBatchingWindowInSeconds, scaled, waits for more). A shard's batches
are delivered one at a time, in order, and the shard is read further only once a batch is settled, so a record is
never delivered again after a success. A failed batch (a function error; with ReportBatchItemFailures, the records
from the lowest reported sequence number on; a malformed response: all of it) is retried after RETRY_DELAY_S
(virtual seconds):
- BisectBatchOnFunctionError: a batch of several records that errs is split in two halves, delivered in turn, each
  with its own retries (splitting uses none, as on AWS);
- after MaximumRetryAttempts retries (-1, the default, is "until the record expires": here, forever) the records
  are discarded, and a record of the batch (DDBStreamBatchInfo) goes to the OnFailure destination, if any.
Not modelled: MaximumRecordAgeInSeconds, TumblingWindowInSeconds, ParallelizationFactor (one batch per shard).
"""

from __future__ import annotations

import base64
import datetime
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from local.aws.event_batches import Counters, MappingConfig, RecordFilter, failed_items
from local.aws.time_warp import scaled

Invoke = Callable[[str, dict[str, Any]], tuple[str, bool]]  # (function ARN, event) -> (payload, is_error)
Publish = Callable[[str, dict[str, Any]], None]  # (destination ARN, record)
POLL_S = 0.25  # real seconds between passes over a stream that has nothing new (Lambda: 4 a second)
RETRY_DELAY_S = 1.0  # virtual seconds before a failed batch is retried
READ_LIMIT = 1000  # GetRecords' maximum


class _Shard:
    def __init__(self, shard_id: str, iterator: str, position: str | None) -> None:
        self.id = shard_id
        self.iterator = iterator  # where the next read starts
        self.position = position  # the sequence number of the last settled record (the checkpoint)


class StreamPoller:
    def __init__(self, config: MappingConfig, invoke: Invoke, streams: Any, publish: Publish,
                 counters: Counters | None = None, resume: dict[str, str] | None = None) -> None:
        self.config = config
        self.counters = counters or Counters()
        self._resume = dict(resume or {})  # shard id -> checkpoint of an earlier poller of this mapping
        self._invoke = invoke
        self._streams = streams
        self._publish = publish
        self._filter = RecordFilter(config.patterns)
        self._shards: list[_Shard] = []
        self._stop = threading.Event()
        self._busy = False
        self._last_pass: tuple[float, bool] = (float("-inf"), False)  # (when it began, whether it found nothing)
        self._thread = threading.Thread(target=self._run, name=f"stream-esm-{config.uuid[:8]}", daemon=True)

    def start(self) -> StreamPoller:
        """Positions are taken now: LATEST is the end of the stream at this moment; a checkpoint is resumed."""
        shards = self._streams.describe_stream(StreamArn=self.config.source_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id, checkpoint = shard["ShardId"], self._resume.get(shard["ShardId"])
            kind = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": checkpoint} if checkpoint else \
                {"ShardIteratorType": self.config.starting_position}
            iterator = self._streams.get_shard_iterator(StreamArn=self.config.source_arn, ShardId=shard_id, **kind)
            self._shards.append(_Shard(shard_id, iterator["ShardIterator"], checkpoint))
        self._thread.start()
        return self

    def checkpoints(self) -> dict[str, str]:
        """Shard id -> the last settled sequence number (what a restarted poller of this mapping resumes after)."""
        return {shard.id: shard.position for shard in self._shards if shard.position}

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self.request_stop()
        self._thread.join()

    def looked_since(self, moment: float) -> bool:
        """A pass over the shards began after `moment` and is over."""
        return self._last_pass[0] >= moment

    def quiet(self) -> bool:
        """No batch in delivery, and the last pass found nothing new."""
        return not self._busy and self._last_pass[1]

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            found = any([self._poll(shard) for shard in self._shards])
            self._last_pass = (began, not found)
            if not found:
                self._stop.wait(POLL_S)

    def _poll(self, shard: _Shard) -> bool:
        """Read, filter and deliver one batch of the shard; False if there was nothing new."""
        self._busy = True
        try:
            batch, last_read = self._gather(shard)
            if batch:
                self.counters.add(batches=1)
                self._deliver(shard.id, batch)
            if last_read and not self._stop.is_set():
                shard.position = last_read
            return last_read is not None
        finally:
            self._busy = False

    def _gather(self, shard: _Shard) -> tuple[list[dict[str, Any]], str | None]:
        """Matching records up to BatchSize, read from the shard's iterator (which moves past every record taken),
        and the sequence number of the last record taken (None: nothing new)."""
        batch: list[dict[str, Any]] = []
        last_read, window_end = None, time.monotonic() + scaled(self.config.window_s)
        while not self._stop.is_set():
            page = self._streams.get_records(ShardIterator=shard.iterator, Limit=READ_LIMIT)
            records, taken = page["Records"], 0
            for record in records:
                taken += 1
                event = stream_record(record, self.config.source_arn)
                if self._filter.matches(event):
                    batch.append(event)
                else:
                    self.counters.add(records_filtered=1)
                if len(batch) == self.config.batch_size:
                    break
            self.counters.add(records_received=taken)
            if taken:
                last_read = records[taken - 1]["dynamodb"]["SequenceNumber"]
                shard.iterator = page["NextShardIterator"] if taken == len(records) else \
                    self._iterator_after(shard, last_read)
            else:
                shard.iterator = page["NextShardIterator"]
            if not batch or len(batch) == self.config.batch_size or time.monotonic() >= window_end:
                return batch, last_read
            if not records:
                self._stop.wait(min(POLL_S, max(0.0, window_end - time.monotonic())))
        return batch, last_read

    def _iterator_after(self, shard: _Shard, sequence_number: str) -> str:
        iterator: str = self._streams.get_shard_iterator(
            StreamArn=self.config.source_arn, ShardId=shard.id, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=sequence_number)["ShardIterator"]
        return iterator

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        retries = 0
        while not self._stop.is_set():
            failed_from = self._invoke_batch(batch)
            if failed_from is None:
                return
            if failed_from == 0 and self.config.bisect and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(shard_id, batch[:half])
                self._deliver(shard_id, batch[half:])
                return
            batch = batch[failed_from:]
            if retries == self.config.max_retries:
                self._discard(shard_id, batch, retries + 1)
                return
            retries += 1
            self._stop.wait(scaled(RETRY_DELAY_S))

    def _invoke_batch(self, batch: list[dict[str, Any]]) -> int | None:
        """None when the batch succeeded, else the index of the first record to retry."""
        with self.counters.invoking():
            payload, is_error = self._invoke(self.config.function_arn, {"Records": batch})
        if is_error:
            self.counters.add(function_errors=1)
            return 0
        if not self.config.report_failures:
            return None
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        failed = failed_items(payload, sequence_numbers)
        if failed is None:
            self.counters.add(function_errors=1)
            return 0
        return min((sequence_numbers.index(s) for s in failed), default=None)

    def _discard(self, shard_id: str, batch: list[dict[str, Any]], attempts: int) -> None:
        self.counters.add(records_discarded=len(batch))
        if self.config.on_failure:
            self._publish(self.config.on_failure, failure_record(self.config, shard_id, batch, attempts))


def stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """One record of Lambda's DynamoDB event, from a GetRecords record as boto3 parsed it."""
    return {**_as_json(record), "eventSourceARN": stream_arn}


def _as_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, bytes | bytearray):  # B and BS values, base64 in Lambda's event as in the API
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):  # ApproximateCreationDateTime: epoch seconds
        return int(value.timestamp())
    return value


def failure_record(config: MappingConfig, shard_id: str, batch: list[dict[str, Any]],
                   attempts: int) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's OnFailure destination."""
    first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": config.function_arn,
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": _iso(time.time()),
        "DDBStreamBatchInfo": {
            "shardId": shard_id, "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime", time.time())),
            "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime", time.time())),
            "batchSize": len(batch), "streamArn": config.source_arn,
        },
    }


def _iso(epoch_seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_seconds, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
