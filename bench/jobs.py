"""Drive real jobs through the deployed local pipeline and record, for each, what the measurements need:
when the vendor task finished (the emulator's clock), when output.mp4 landed in S3 (the object's LastModified,
read with microseconds from moto's backend in this process, so the harness adds no requests of its own), the job's
history (its Standard state transitions, who handed it the token back) and its pollers' histories (polls, their
duration, time spent in the time-scaled Wait after the task finished).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from faceswap import layout
from local.aws.server import ACCOUNT_ID
from local.pipeline import LocalPipeline

WEBHOOK, POLLING = "webhook", "polling-only"
# State names of the poller (infra/workflow.py).
POLL_WAIT, POLL_CHECK = "Wait polling_interval", "Check task status"
VIDEO_KEY, FACE_KEY = "videos/bench-clip.mp4", "faces/bench-face.png"


@dataclass(frozen=True)
class JobRun:
    job_id: str
    path: str  # WEBHOOK or POLLING
    task_id: str
    finished_at: float  # unix seconds: the vendor task became final
    arrived_at: float  # unix seconds: output.mp4 LastModified
    states: tuple[str, ...]  # the job's (Standard) states entered, in order
    poller_states: tuple[str, ...]  # its pollers' (Express) states entered, oldest poller first
    polls: int  # Check task status calls, across the job's pollers
    wait_after_finish: float  # seconds (local) spent in the poller's Wait after the task had finished
    ended_by: str | None  # "webhook" or "polling": who handed the job its token back
    pollers: int  # poller executions: 1, plus one per hand-over
    poller_seconds: float  # their total duration (local: time-scaled Waits included as they ran)

    @property
    def transitions(self) -> int:
        """Billed Standard-workflow transitions: one per job state entered (no retries happened in these runs).
        The pollers are Express: billed by duration and request, not by transition."""
        return len(self.states)

    @property
    def local_seconds(self) -> float:
        return self.arrived_at - self.finished_at

    def seconds_at_scale_one(self, time_scale: float) -> float:
        """Time to result as on AWS: only Wait states were time-scaled, so only their share is scaled back."""
        return self.local_seconds + self.wait_after_finish * (1 / time_scale - 1)


class JobDriver:
    """Submits jobs by manifest (video and face uploaded once) with a chosen vendor processing time each."""

    def __init__(self, pipeline: LocalPipeline, video: Path, face: Path, *, time_scale: float,
                 polling_interval: float) -> None:
        self.pipeline = pipeline
        self.time_scale = time_scale
        self.polling_interval = polling_interval
        s3 = pipeline.client("s3")
        s3.upload_file(str(video), pipeline.bucket, VIDEO_KEY)
        s3.upload_file(str(face), pipeline.bucket, FACE_KEY)
        self._s3 = s3

    def run(self, path: str, processing_seconds: list[float], prefix: str, in_flight: int,
            timeout: float = 120.0) -> list[JobRun]:
        """One job per entry of `processing_seconds` (vendor time at scale 1), at most `in_flight` at once."""
        return self.collect(self.submit(path, processing_seconds, prefix, in_flight, timeout), path, timeout)

    def submit(self, path: str, processing_seconds: list[float], prefix: str, in_flight: int,
               timeout: float = 120.0, own_video: bool = False) -> list[str]:
        """Run the jobs until every one has written status.json; the harness itself sends no request to moto
        meanwhile except the user's uploads (manifests, and with `own_video` each job's video, whose upload
        event also invokes the start function), so moto's request recorder sees only those and the pipeline."""
        emulator = self.pipeline.emulator
        emulator.reset()
        emulator.config.polling_interval_seconds = self.polling_interval
        emulator.set_faults(webhook_drop=(path == POLLING))
        job_ids: list[str] = []
        for index, seconds in enumerate(processing_seconds):
            self._wait_for_room(job_ids, in_flight, timeout)
            # Captured when the task is created: one job at a time until its task exists.
            emulator.set_faults(processing_delay_seconds=seconds * self.time_scale)
            job_id = f"{prefix}-{index:03d}"
            video_key = f"videos/{job_id}.mp4" if own_video else VIDEO_KEY
            if own_video:
                self._s3.copy_object(Bucket=self.pipeline.bucket, Key=video_key,
                                     CopySource={"Bucket": self.pipeline.bucket, "Key": VIDEO_KEY})
            self._s3.put_object(Bucket=self.pipeline.bucket, Key=f"jobs/{job_id}.json",
                                Body=json.dumps({"video": video_key, "face": FACE_KEY}).encode())
            _until(lambda n=index + 1: len(emulator.stats()["tasks"]) >= n, timeout, f"task of {job_id}")
            job_ids.append(job_id)
        bucket = self.pipeline.bucket
        _until(lambda: all(s3_last_modified(bucket, f"results/{j}/status.json") for j in job_ids), timeout,
               f"results of {prefix}")
        return job_ids

    def collect(self, job_ids: list[str], path: str, timeout: float = 120.0) -> list[JobRun]:
        self.wait_for_pollers(job_ids, timeout)
        return [self._collect(job_id, path, timeout) for job_id in job_ids]

    def wait_for_pollers(self, job_ids: list[str], timeout: float = 120.0) -> None:
        """A job's poller outlives it when the webhook was first: it ends at its first round after the task
        finished. (Step Functions requests only: the cost section's request recorder does not count them.)"""
        sfn, arn = self.pipeline.client("stepfunctions"), self.pipeline.poller_arn
        owners = set(job_ids)  # pollers are named `<job>_<polls so far>`

        def done() -> bool:
            running = [e["name"] for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=arn, statusFilter="RUNNING") for e in page["executions"]]
            return not any(layout.poller_job_id(name) in owners for name in running)

        _until(done, timeout, "the pollers' end", every=0.1)

    def _wait_for_room(self, job_ids: list[str], in_flight: int, timeout: float) -> None:
        _until(lambda: sum(1 for j in job_ids if self._arrived(j) is None) < in_flight, timeout, "a free slot")

    def _arrived(self, job_id: str) -> float | None:
        return s3_last_modified(self.pipeline.bucket, f"results/{job_id}/output.mp4")

    def _collect(self, job_id: str, path: str, timeout: float) -> JobRun:
        view = self.pipeline.wait_for_job(job_id, timeout=timeout)
        if view.execution_status != "SUCCEEDED" or not view.status:
            raise RuntimeError(f"bench job {job_id} did not succeed: {view}")
        task_id = str(view.status["task_id"])
        task = next(t for t in self.pipeline.emulator.stats()["tasks"] if t["task_id"] == task_id)
        arrived = self._arrived(job_id)
        assert arrived is not None
        finished = float(task["finished_at"])
        pollers = self.pipeline.poller_histories(job_id)
        poller_states = tuple(name for events in pollers for name in _entered(events))
        # Who ended the wait, from the job's side (its history holds the signal that ended it).
        ended_by = self.pipeline.ended_by(job_id)
        return JobRun(job_id, path, task_id, finished, arrived, tuple(_entered(self.pipeline.history(job_id))),
                      poller_states, poller_states.count(POLL_CHECK),
                      _wait_after(pollers, finished) if ended_by == "polling" else 0.0, ended_by, len(pollers),
                      sum(_duration(events) for events in pollers))


def s3_last_modified(bucket: str, key: str) -> float | None:
    """LastModified of an object in this process's moto backend, in unix seconds (None if absent)."""
    from moto.s3.models import s3_backends

    found: Any = s3_backends[ACCOUNT_ID]["aws"].buckets.get(bucket)
    obj = found.keys.get(key) if found is not None else None
    if obj is None:
        return None
    return float(obj.last_modified.replace(tzinfo=UTC).timestamp())


def _wait_after(pollers: list[list[dict[str, Any]]], finished_at: float) -> float:
    """Seconds of the pollers' last Wait that ran after the task finished (for a job that polling ended)."""
    entered = exited = None
    for event in (e for events in pollers for e in events):
        name = (event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}).get("name")
        if name != POLL_WAIT:
            continue
        if event["type"] == "WaitStateEntered":
            entered = event["timestamp"].timestamp()
        elif event["type"] == "WaitStateExited":
            exited = event["timestamp"].timestamp()
    if entered is None or exited is None:
        return 0.0
    return max(0.0, exited - max(entered, finished_at))


def _duration(events: list[dict[str, Any]]) -> float:
    """An execution's first to last event: what Express bills (here in local, time-scaled seconds)."""
    return events[-1]["timestamp"].timestamp() - events[0]["timestamp"].timestamp() if events else 0.0


def _entered(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def _until(condition: Any, timeout: float, what: str, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(every)


def processing_times(count: int, interval: float) -> list[float]:
    """Vendor processing times that put the task's end at evenly spread phases of one polling interval, so that
    the polling path's detection delay samples [0, interval) uniformly (stratified, deterministic). Each is at
    least one interval, so the task never ends before the execution's first Wait has started (whatever the
    local start-up delay, which is not time-scaled)."""
    return [interval * (1 + (i + 0.5) / count) for i in range(count)]

