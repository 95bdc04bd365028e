"""Standard Webhooks deliveries of final task states, with the misbehaviour a receiver must survive:
drops, duplicates, late and stale deliveries, forged signatures."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from standardwebhooks import Webhook

from local.emulator.config import EmulatorConfig
from local.emulator.faults import Faults
from local.emulator.scheduler import Scheduler
from local.emulator.state import TaskRecord

STALE_TIMESTAMP_AGE_SECONDS = 600  # twice the 5-minute tolerance of the spec


@dataclass(frozen=True)
class Event:
    webhook_id: str
    task_id: str
    task_status: str
    created_at: int
    kind: str  # "final", "duplicate" (same webhook-id again) or "stale" (out of order)

    def body(self) -> str:
        payload = {"created_at": self.created_at, "data": {"task_id": self.task_id, "task_status": self.task_status}}
        return json.dumps(payload, separators=(",", ":"))


@dataclass
class Delivery:
    url: str
    webhook_id: str
    task_id: str
    task_status: str
    kind: str
    forged: str | None
    webhook_timestamp: int
    status_code: int | None
    error: str | None
    sent_at: float


def webhook_id(task_id: str, created_at: int) -> str:
    """The vendor's own form, `msg_<task_id>:<created_at>`: the same for every endpoint and every resend of one
    event, so a receiver that drops repeated ids drops duplicates and nothing else."""
    return f"msg_{task_id}:{created_at}"


def signature_header(event: Event, body: str, timestamp: int, config: EmulatorConfig, forge: str | None) -> str:
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    if forge == "wrong_secret":
        wrong = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        return Webhook(wrong).sign(event.webhook_id, when, body)
    return " ".join(Webhook(secret).sign(event.webhook_id, when, body) for secret in config.webhook_secrets())


class WebhookSender:
    def __init__(self, config: EmulatorConfig, faults: Faults, scheduler: Scheduler) -> None:
        self._config = config
        self._faults = faults
        self._scheduler = scheduler
        self._urls = list(config.webhook_urls)
        self._lock = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._dropped = 0
        self._generation = 0
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="emulator-webhook")

    @property
    def urls(self) -> list[str]:
        with self._lock:
            return list(self._urls)

    def add_url(self, url: str) -> None:
        with self._lock:
            if url not in self._urls:
                self._urls.append(url)

    def task_finished(self, task: TaskRecord) -> None:
        """Plan the deliveries for a final task state according to the current fault switches."""
        if self._faults.webhook_drop:
            with self._lock:
                self._dropped += 1
            return
        finished = int(task.finished_at or time.time())
        final = Event(webhook_id(task.task_id, finished), task.task_id, str(task.status), finished, "final")
        events = [final]
        if self._faults.webhook_duplicate:
            events.append(Event(final.webhook_id, final.task_id, final.task_status, final.created_at, "duplicate"))
        if self._faults.webhook_out_of_order:
            # Strictly older than the final event, so its id differs even for a task that took under a second.
            stale_at = min(int(task.created_at), finished - 1)
            events.append(Event(webhook_id(task.task_id, stale_at), task.task_id, "running", stale_at, "stale"))
        forge, generation = self._faults.webhook_forge, self._generation

        def deliver() -> None:
            for url in self.urls:
                self._pool.submit(self._send_all, url, events, forge, generation)

        self._scheduler.call_later(self._faults.webhook_delay_seconds, deliver)

    def _send_all(self, url: str, events: list[Event], forge: str | None, generation: int) -> None:
        # One job per endpoint sends its events in order: final, duplicate, then the stale one.
        for event in events:
            delivery = self._send(url, event, forge)
            with self._lock:
                if generation == self._generation:
                    self._deliveries.append(delivery)
                    self._lock.notify_all()

    def _send(self, url: str, event: Event, forge: str | None) -> Delivery:
        body = event.body()
        timestamp = int(time.time()) - (STALE_TIMESTAMP_AGE_SECONDS if forge == "stale_timestamp" else 0)
        headers = {"content-type": "application/json", "webhook-id": event.webhook_id,
                   "webhook-timestamp": str(timestamp)}
        if forge != "no_signature":
            headers["webhook-signature"] = signature_header(event, body, timestamp, self._config, forge)
        status_code, error = None, None
        try:
            answer = requests.post(url, data=body.encode(), headers=headers,
                                   timeout=self._config.webhook_timeout_seconds)
            status_code = answer.status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
        return Delivery(url, event.webhook_id, event.task_id, event.task_status, event.kind, forge, timestamp,
                        status_code, error, time.time())

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(d) for d in self._deliveries]

    def dropped(self) -> int:
        with self._lock:
            return self._dropped

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """Block until at least `count` deliveries were made (or timeout); returns them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._deliveries) < count and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(timeout=left)
            return [asdict(d) for d in self._deliveries]

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._deliveries.clear()
            self._dropped = 0

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
