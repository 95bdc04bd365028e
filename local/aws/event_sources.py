"""Lambda's event source mappings on the local stack: every SQS and DynamoDB-stream mapping that moto's Lambda
backend holds (CloudFormation creates them from the template) is polled the way Lambda polls it.

moto 5.2.5 delivers inline instead: SendMessage itself receives up to BatchSize messages and invokes the function
once per message (nothing delivers a delayed or returned message later; no batching, concurrency cap, partial batch
response or real receive count), and a table write invokes the stream's function with every record of the shard,
then empties the shard, so sequence numbers repeat. `install()` switches that off (moto no longer registers a new
mapping on its queue or table); `EventSources` polls instead (sqs_poller.py, stream_poller.py):

    sources = EventSources(runtime, endpoint_url).start()  # LocalStack: after deploying, stopped on exit
    sources.wait_idle(timeout=30)  # True once every mapping is idle: its queue has nothing visible, in flight or
                                   # delayed, its stream is read to the end, and no invocation runs
    sources.stats(function_name=name)  # MappingStats of its one mapping: invocations, batches, deleted, returned...
    sources.refresh()  # look at the mappings now (else every REFRESH_S): new, changed, disabled, deleted ones
    sources.stop()

A changed or re-enabled mapping gets a new poller with the old one's counters and, for a stream, its checkpoints
(Lambda resumes where it was too). Time: long polls, batching
windows and stream retries run on the stack's time scale (time_warp), like SQS's own delays and visibility timeouts
(sqs_queues.py). The pollers call SQS, DynamoDB Streams and Lambda's API over HTTP with USER_AGENT, so moto's request
recorder can tell their requests apart.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from functools import partial
from typing import Any

from botocore.config import Config
from moto.awslambda.models import LambdaBackend
from moto.awslambda.utils import get_backend as lambda_backend
from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends

from local.aws.call_log import record_function_call
from local.aws.event_batches import Counters, MappingConfig, MappingConfigError, MappingStats
from local.aws.lambda_runtime import LambdaRuntime
from local.aws.patches import Patches
from local.aws.server import FAKE_CREDENTIALS, REGION, boto_client
from local.aws.sqs_poller import SqsPoller
from local.aws.stream_poller import StreamPoller

LOG = logging.getLogger(__name__)
USER_AGENT = "local-event-source-poller"
REFRESH_S = 5.0  # real seconds between two looks at the mappings (refresh() looks at once)
Poller = SqsPoller | StreamPoller
_patches = Patches()


def install() -> None:
    """Idempotent; `uninstall()` restores moto's inline delivery."""
    if _patches.applied:
        return
    _patches.apply(LambdaBackend, "create_event_source_mapping", _create_without_inline_delivery)


def uninstall() -> None:
    _patches.undo()


def _create_without_inline_delivery(self: LambdaBackend, spec: dict[str, Any]) -> Any:
    mapping = _patches.original(LambdaBackend, "create_event_source_mapping")(self, spec)
    queues = sqs_backends[self.account_id][self.region_name].queues.values()
    tables = dynamodb_backends[self.account_id][self.region_name].tables.values()
    registries = [q.lambda_event_source_mappings for q in queues] + [t.lambda_event_source_mappings for t in tables]
    for registry in registries:
        for key in [k for k, v in registry.items() if v is mapping]:
            del registry[key]
    return mapping


class EventSources:
    def __init__(self, runtime: LambdaRuntime, endpoint_url: str, region: str = REGION) -> None:
        self._runtime = runtime
        self._region = region
        config = Config(user_agent_extra=USER_AGENT, retries={"max_attempts": 2, "mode": "standard"})
        self._clients = {service: boto_client(service, region_name=region, endpoint_url=endpoint_url, config=config,
                                              aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                              aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
                         for service in ("lambda", "sqs", "dynamodbstreams", "sns")}
        self._pollers: dict[str, Poller] = {}
        # Kept across a mapping's pollers (one replaces another when the mapping changes or is re-enabled): its
        # counters, and for a stream the checkpoint of each shard, where Lambda resumes too.
        self._counters: dict[str, Counters] = {}
        self._checkpoints: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="event-sources", daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> EventSources:
        """Starts polling every mapping now, then watches for changes. A mapping AWS would have refused raises
        `MappingConfigError` here (later ones are logged and not polled)."""
        refused = self.refresh()
        if refused:
            raise MappingConfigError("; ".join(refused))
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            pollers, self._pollers = list(self._pollers.values()), {}
        for poller in pollers:  # all at once: each may be in a long poll
            poller.request_stop()
        for poller in pollers:
            self._retire(poller)

    def refresh(self) -> list[str]:
        """Starts pollers for new or changed enabled mappings, stops those of deleted or disabled ones. Returns
        why mappings AWS would have refused are not polled."""
        configs, refused = self._list_mappings()
        wanted = {c.uuid: c for c in configs if c.enabled and c.service in ("sqs", "dynamodb")}
        with self._lock:
            stale = [p for uuid, p in self._pollers.items() if wanted.get(uuid) != p.config]
            for poller in stale:
                del self._pollers[poller.config.uuid]
            new = [c for uuid, c in wanted.items() if uuid not in self._pollers]
        for poller in stale:
            self._retire(poller)
        for config in new:
            started = self._poller(config).start()
            with self._lock:
                self._pollers[config.uuid] = started
        for reason in refused:
            LOG.error("event source mapping not polled: %s", reason)
        return refused

    # --- observation -------------------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every mapping was quiet twice in a row, each time after a fresh look at its source (the second
        catches what a function wrote to a stream the first look missed); False at the timeout."""
        self.refresh()
        deadline, confirmed = time.monotonic() + timeout, False
        while time.monotonic() < deadline:
            mark = time.monotonic()
            while not all(p.looked_since(mark) for p in self._current()):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
            if all(p.quiet() for p in self._current()):
                if confirmed:
                    return True
                confirmed = True
            else:
                confirmed = False
            time.sleep(0.05)
        return False

    def stats(self, *, function_name: str | None = None, source_arn: str | None = None) -> MappingStats:
        """The counters of the one mapping of this function and/or source."""
        matches = [p for p in self._current()
                   if function_name in (None, p.config.function_arn.split(":")[6])
                   and source_arn in (None, p.config.source_arn)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} mappings match function {function_name!r}, source {source_arn!r}")
        return matches[0].counters.snapshot()

    def mappings(self) -> list[MappingConfig]:
        return [p.config for p in self._current()]

    def describe(self) -> str:
        """One line per mapping: its source, whether it is idle now, and its counters (for a failing wait)."""
        return "\n".join(f"{p.config.source_arn.split(':')[-1]}: quiet={p.quiet()} {p.counters.snapshot()}"
                         for p in self._current())

    # --- internals ---------------------------------------------------------------------------------------
    def _current(self) -> list[Poller]:
        with self._lock:
            return list(self._pollers.values())

    def _watch(self) -> None:
        while not self._stop.wait(REFRESH_S):
            try:
                self.refresh()
            except Exception:  # the server going away at shutdown
                LOG.exception("refreshing the event source mappings failed")

    def _list_mappings(self) -> tuple[list[MappingConfig], list[str]]:
        configs, refused = [], []
        for page in self._clients["lambda"].get_paginator("list_event_source_mappings").paginate():
            for entry in page["EventSourceMappings"]:
                try:
                    configs.append(MappingConfig.from_api(entry))
                except MappingConfigError as exc:
                    refused.append(f"{entry['UUID']} ({entry['EventSourceArn']}): {exc}")
        return configs, refused

    def _poller(self, config: MappingConfig) -> Poller:
        counters = self._counters.setdefault(config.uuid, Counters())
        if config.service == "sqs":
            workers = self._runtime.max_workers_per_function
            if (config.concurrency or 0) > workers:  # the others wait for a worker, their visibility timeout running
                LOG.warning("mapping %s may run %d invocations at once, the local runtime %d of one function",
                            config.uuid, config.concurrency, workers)
            return SqsPoller(config, self._invoke, RecordedQueueReads(self._clients["sqs"], config),
                             config.concurrency or workers, counters)
        return StreamPoller(config, self._invoke, RecordedStreamReads(self._clients["dynamodbstreams"], config),
                            partial(self._publish, _function_name(config)), counters,
                            self._checkpoints.get(config.uuid))

    def _retire(self, poller: Poller) -> None:
        poller.stop()
        if isinstance(poller, StreamPoller):
            self._checkpoints[poller.config.uuid] = poller.checkpoints()

    def _invoke(self, function_arn: str, event: dict[str, Any]) -> tuple[str, bool]:
        """A synchronous invocation, as Lambda's pollers make it."""
        account, region = function_arn.split(":")[4], function_arn.split(":")[3]
        function = lambda_backend(account, region).get_function(function_arn)
        payload, is_error, _ = self._runtime.run(function, event)
        return payload, is_error

    def _publish(self, function_name: str, destination: str, record: dict[str, Any]) -> None:
        """A stream mapping's OnFailure destination: an SQS queue or an SNS topic (with the function's role)."""
        service, parts = destination.split(":")[2], destination.split(":")
        if service == "sqs":
            sqs = self._clients["sqs"]
            url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
            record_function_call(function_name, "sqs", "SendMessage", {"QueueUrl": url}, self._region)
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        elif service == "sns":
            record_function_call(function_name, "sns", "Publish", {"TopicArn": destination}, self._region)
            self._clients["sns"].publish(TopicArn=destination, Message=json.dumps(record))
        else:
            LOG.error("OnFailure destination %s is not emulated locally; the record is dropped", destination)


def _function_name(config: MappingConfig) -> str:
    return config.function_arn.split(":")[6]


class RecordedQueueReads:
    """The SQS client of one queue mapping: Lambda polls the queue with the function's role, so each kind of call is
    recorded (once: the poller calls all the time) as the function's call, for the IAM proof (call_log.py)."""

    def __init__(self, client: Any, config: MappingConfig) -> None:
        self._client = client
        self._function = _function_name(config)
        self._region = config.source_arn.split(":")[3]
        self._recorded: set[str] = set()

    def get_queue_url(self, **params: Any) -> Any:
        """The poller's own look-up of the queue's URL (not a call Lambda makes with the role: not recorded)."""
        return self._client.get_queue_url(**params)

    def get_queue_attributes(self, **params: Any) -> Any:
        return self._call("GetQueueAttributes", self._client.get_queue_attributes, params)

    def receive_message(self, **params: Any) -> Any:
        return self._call("ReceiveMessage", self._client.receive_message, params)

    def delete_message_batch(self, **params: Any) -> Any:
        return self._call("DeleteMessageBatch", self._client.delete_message_batch, params)

    def _call(self, operation: str, call: Any, params: dict[str, Any]) -> Any:
        if operation not in self._recorded:
            self._recorded.add(operation)
            record_function_call(self._function, "sqs", operation, {"QueueUrl": params["QueueUrl"]}, self._region)
        return call(**params)


class RecordedStreamReads:
    """The DynamoDB Streams client of one stream mapping: Lambda reads the stream with the function's role, so each
    kind of read is recorded (once: the poller reads 4 times a second) as the function's call, for the IAM proof
    (call_log.py). GetRecords names its stream through the iterator: it is recorded with the stream's ARN."""

    def __init__(self, client: Any, config: MappingConfig) -> None:
        self._client = client
        self._function = _function_name(config)
        self._stream_arn = config.source_arn
        self._recorded: set[str] = set()

    def describe_stream(self, **params: Any) -> Any:
        self._record("DescribeStream")
        return self._client.describe_stream(**params)

    def get_shard_iterator(self, **params: Any) -> Any:
        self._record("GetShardIterator")
        return self._client.get_shard_iterator(**params)

    def get_records(self, **params: Any) -> Any:
        self._record("GetRecords")
        return self._client.get_records(**params)

    def _record(self, operation: str) -> None:
        if operation not in self._recorded:
            self._recorded.add(operation)
            record_function_call(self._function, "dynamodbstreams", operation, {"StreamArn": self._stream_arn},
                                 self._stream_arn.split(":")[3])
