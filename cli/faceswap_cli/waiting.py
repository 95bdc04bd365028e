"""Follow one job to its end: before the execution (start function validating and uploading), during it
(state, polls, webhook), and after it (status.json and output.mp4, or error.json).

    result = wait_for_result(boto3.Session(), stack, "my-job", timeout=3600)
    if result.succeeded: ...
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from faceswap.layout import ERROR_NAME, OUTPUT_NAME, STATUS_NAME
from faceswap_cli.errors import JobTimeout
from faceswap_cli.jobs import execution_status, object_exists, read_json, read_record
from faceswap_cli.stack import Clients, StackInfo, clients_for

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
WAIT_RESOURCE = "startExecution.waitForTaskToken"  # the job's callback wait on its poller (infra/workflow.py)
# error.json of a timed-out or aborted execution is written by an EventBridge rule, a moment after the end.
ERROR_REPORT_GRACE_SECONDS = 20.0


@dataclass(frozen=True)
class Progress:
    """One snapshot for a live display."""

    job_id: str
    phase: str  # starting | running | finishing | SUCCEEDED | FAILED | TIMED_OUT | ABORTED | REJECTED
    state: str | None  # the state machine's current state
    elapsed_seconds: float
    polls: int
    webhook_received: bool


@dataclass(frozen=True)
class JobResult:
    job_id: str
    execution_status: str  # NONE when the job was rejected before an execution started
    status: dict[str, Any] | None  # status.json
    error: dict[str, Any] | None  # error.json (error_class, code, message, what_to_fix, vendor_code)
    output_key: str | None
    elapsed_seconds: float
    polls: int = 0
    webhook_received: bool = False
    ended_by: str | None = None  # "webhook" or "polling": who handed the job its token back

    @property
    def succeeded(self) -> bool:
        return self.execution_status == "SUCCEEDED" and self.output_key is not None


@dataclass
class _History:
    """Execution history read incrementally: newest-first pages until an event already seen."""

    clients: Clients
    arn: str
    last_id: int = 0
    polls: int = 0
    webhook_received: bool = False
    state: str | None = None
    ended_by: str | None = None

    def update(self) -> None:
        for event in self._new_events():
            self._note(event)

    def _new_events(self) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": self.arn, "reverseOrder": True, "maxResults": 200}
        while True:
            page = self.clients.sfn.get_execution_history(**kwargs)
            events: list[dict[str, Any]] = [dict(e) for e in page["events"]]
            newer = [e for e in events if int(e["id"]) > self.last_id]
            fresh.extend(newer)
            if len(newer) < len(events) or not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        fresh.sort(key=lambda e: int(e["id"]))
        if fresh:
            self.last_id = int(fresh[-1]["id"])
        return fresh

    def _note(self, event: dict[str, Any]) -> None:
        entered = event.get("stateEnteredEventDetails")
        signal = wait_signal(event)
        if entered:
            self.state = str(entered["name"])
        elif signal is not None:
            self.ended_by = wait_ended_by(signal)
            self.webhook_received = self.ended_by == "webhook"
            self.polls = int(signal.get("count", 0))  # the poller's history is in its logs (Express)


def wait_signal(event: dict[str, Any]) -> dict[str, Any] | None:
    """The signal that ended the job's wait for its token, if `event` is that wait's TaskSucceeded."""
    details = event.get("taskSucceededEventDetails") or {}
    if event["type"] != "TaskSucceeded" or details.get("resource") != WAIT_RESOURCE:
        return None
    return dict(json.loads(details.get("output") or "{}"))


def wait_ended_by(signal: dict[str, Any]) -> str:
    """Who handed the job its token back: the webhook's signal names itself ("via"); the poller's is its last
    poll (final, status, count...)."""
    return "webhook" if "via" in signal else "polling"


def wait_for_result(target: Clients | boto3.Session | None, stack: StackInfo, job_id: str,
                    timeout: float = 3600.0, *, poll_interval: float = 2.0,
                    on_progress: Callable[[Progress], None] | None = None) -> JobResult:
    """Block until the job ends; JobTimeout (a TimeoutError) after `timeout` s (the job keeps running)."""
    clients = clients_for(target, stack)
    started = time.monotonic()
    history = _History(clients, stack.execution_arn(job_id))

    def report(phase: str) -> None:
        if on_progress:
            on_progress(Progress(job_id, phase, history.state, time.monotonic() - started, history.polls,
                                 history.webhook_received))

    while time.monotonic() - started < timeout:
        status = execution_status(clients, stack, job_id)
        if status == "NONE":
            rejected = read_json(clients, stack, stack.result_key(job_id, ERROR_NAME))
            if rejected:
                report("REJECTED")
                return JobResult(job_id, "NONE", None, rejected, None, time.monotonic() - started)
            report("starting")
        else:
            history.update()
            if status in TERMINAL:
                report("finishing")
                result = _final(clients, stack, job_id, status, started, history)
                report(status)
                return result
            report("running")
        time.sleep(poll_interval)
    raise JobTimeout(f"Job {job_id} did not finish within {timeout:g} s; it keeps running.",
                     f"Check on it later with `faceswap status {job_id}`.")


def _final(clients: Clients, stack: StackInfo, job_id: str, status: str, started: float,
           history: _History) -> JobResult:
    output_key = stack.result_key(job_id, OUTPUT_NAME)
    error = read_json(clients, stack, stack.result_key(job_id, ERROR_NAME))
    if status != "SUCCEEDED" and error is None:
        error = _await_error_report(clients, stack, job_id, status)
    has_output = status == "SUCCEEDED" and object_exists(clients, stack, output_key)
    return JobResult(job_id, status, read_json(clients, stack, stack.result_key(job_id, STATUS_NAME)), error,
                     output_key if has_output else None, time.monotonic() - started, history.polls,
                     history.webhook_received, history.ended_by)


def _await_error_report(clients: Clients, stack: StackInfo, job_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + ERROR_REPORT_GRACE_SECONDS
    while time.monotonic() < deadline:
        error = read_json(clients, stack, stack.result_key(job_id, ERROR_NAME))
        if error:
            return error
        time.sleep(0.5)
    described = clients.sfn.describe_execution(executionArn=stack.execution_arn(job_id))
    record = read_record(clients, stack, job_id) or {}
    recorded = record.get("error") if isinstance(record.get("error"), dict) else None
    return recorded or {"code": status.lower(), "message": str(described.get("cause") or described.get("error")
                                                                or f"The execution ended {status}."),
                        "what_to_fix": "Open the execution in the Step Functions console to see which step failed."}
