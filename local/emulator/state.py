"""The emulator's records: declared files, tasks, credit and charges, guarded by one lock."""

from __future__ import annotations

import base64
import dataclasses
import secrets
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from local.emulator.clock import Clock
from local.emulator.config import VIDEO_CONTENT_TYPES
from local.emulator.faults import Faults
from local.emulator.ledger import Ledger
from local.emulator.limits import CreateLimits, Throttled


class TaskStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"


class CreditInsufficient(Exception):
    pass


def new_file_id() -> str:
    # Standard base64 like the vendor's examples ("pfNK5...+KoBIxbE="): clients must not put it in a path.
    return base64.b64encode(secrets.token_bytes(32)).decode()


def new_task_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(48)).decode()


@dataclass
class FileRecord:
    file_id: str
    upload_key: str
    content_type: str
    file_name: str
    file_size: int
    path: Path
    created_at: float
    uploaded: bool = False

    @property
    def is_video(self) -> bool:
        return self.content_type in VIDEO_CONTENT_TYPES


@dataclass(frozen=True)
class InputRef:
    """One task input: an uploaded file or a URL the emulator downloads."""

    file_id: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class TaskPlan:
    """Fault switches captured when the task was created."""

    forced_error: str | None = None
    times_out: bool = False
    never_finish: bool = False
    not_before: float = 0.0  # monotonic time before which the task stays running


@dataclass
class TaskRecord:
    task_id: str
    src: InputRef
    ref: InputRef
    dst_duration: int
    units: int
    plan: TaskPlan
    created_at: float
    status: TaskStatus = TaskStatus.RUNNING
    error: str | None = None
    error_message: str = ""
    result_url: str | None = None
    result_path: Path | None = None
    finished_at: float | None = None
    last_polled_at: float = 0.0
    polls: int = 0
    expired: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "task_status": str(self.status),
            "error": self.error,
            "units": self.units,
            "dst_duration": self.dst_duration,
            "polls": self.polls,
            "expired": self.expired,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class ExpiryRules:
    unpolled_seconds: float
    id_ttl_seconds: float


class Store:
    def __init__(self, faults: Faults, clock: Clock) -> None:
        self._lock = threading.Lock()
        self._faults = faults
        self._clock = clock
        self._limits = CreateLimits(faults)
        self.ledger = Ledger()
        self._finished = threading.Condition(self._lock)
        self._files: dict[str, FileRecord] = {}
        self._uploads: dict[str, str] = {}  # upload key -> file id
        self._tasks: dict[str, TaskRecord] = {}
        self._charges: list[dict[str, Any]] = []

    # --- files -------------------------------------------------------------------------------------------
    def add_file(self, record: FileRecord) -> None:
        with self._lock:
            self._files[record.file_id] = record
            self._uploads[record.upload_key] = record.file_id
        self.ledger.file_registered(record.file_name, record.content_type)

    def file(self, file_id: str) -> FileRecord | None:
        with self._lock:
            return self._files.get(file_id)

    def file_for_upload(self, upload_key: str) -> FileRecord | None:
        with self._lock:
            file_id = self._uploads.get(upload_key)
            return self._files.get(file_id) if file_id else None

    def mark_uploaded(self, file_id: str, sha256: str) -> None:
        with self._lock:
            record = self._files.get(file_id)
            if record is None:
                return
            record.uploaded = True
        self.ledger.file_uploaded(record.file_name, sha256)

    # --- tasks -------------------------------------------------------------------------------------------
    def create_task(self, task: TaskRecord) -> None:
        """Admit, charge the task's units, apply task_error_code and record it. Throttled (429) and
        CreditInsufficient change nothing; the cap check and the new task share one lock, so it always holds."""
        with self._lock:
            try:
                self._limits.admit(self.ledger.running, task.created_at)
            except Throttled as exc:
                self.ledger.throttled(exc.reason)
                raise
            if self._faults.credit_units < task.units:
                raise CreditInsufficient(f"{task.units} units needed, {self._faults.credit_units} left")
            self._faults.credit_units = round(self._faults.credit_units - task.units, 2)
            forced_error = self._take_forced_error()
            if forced_error is not None:
                task.plan = dataclasses.replace(task.plan, forced_error=forced_error)
            self._tasks[task.task_id] = task
            self._charges.append({"task_id": task.task_id, "units": task.units, "at": task.created_at})
            self.ledger.running_changed(task.created_at, +1)

    def _take_forced_error(self) -> str | None:
        """The engine code this task must end in (task_error_code), counting down task_error_count."""
        code, count = self._faults.task_error_code, self._faults.task_error_count
        if code is None or (count is not None and count <= 0):
            return None
        if count == 1:  # the last one: switch the fault off entirely
            self._faults.task_error_code, self._faults.task_error_count = None, None
        elif count is not None:
            self._faults.task_error_count = count - 1
        return code

    def poll_task(self, task_id: str, rules: ExpiryRules, force_expire: bool) -> TaskRecord | None:
        """The task as a status call sees it, or None if unknown or expired (expiry is permanent)."""
        now = self._clock.now()
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.expired:
                return None
            if force_expire or self._expired(task, rules, now):
                task.expired = True
                return None
            task.last_polled_at = now
            task.polls += 1
            return dataclasses.replace(task)

    @staticmethod
    def _expired(task: TaskRecord, rules: ExpiryRules, now: float) -> bool:
        if now - task.created_at > rules.id_ttl_seconds:
            return True
        # Only time spent running counts: a task that finished unpolled stays readable for its 24 h.
        running_until = task.finished_at if task.finished_at is not None else now
        return running_until - task.last_polled_at > rules.unpolled_seconds

    def task(self, task_id: str) -> TaskRecord | None:
        with self._lock:
            task = self._tasks.get(task_id)
            return dataclasses.replace(task) if task else None

    def finish_task(self, task_id: str, **outcome: Any) -> TaskRecord | None:
        """Record the final state; None if the task vanished meanwhile (reset)."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.status is not TaskStatus.RUNNING:
                return None
            for name, value in outcome.items():
                setattr(task, name, value)
            task.finished_at = self._clock.now()
            self.ledger.running_changed(task.finished_at, -1)
            self._finished.notify_all()
            return dataclasses.replace(task)

    def wait_until_final(self, task_id: str, timeout: float) -> TaskStatus:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                task = self._tasks.get(task_id)
                if task is None:
                    raise KeyError(f"unknown task {task_id}")
                if task.status is not TaskStatus.RUNNING:
                    return task.status
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"task {task_id} still running after {timeout} s")
                self._finished.wait(timeout=left)

    def expire_all(self) -> None:
        with self._lock:
            for task in self._tasks.values():
                task.expired = True

    def expire(self, task_id: str) -> None:
        with self._lock:
            if task_id in self._tasks:
                self._tasks[task_id].expired = True

    # --- inspection --------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "files_created": len(self._files),
                "uploads_completed": sum(1 for f in self._files.values() if f.uploaded),
                "tasks_created": len(self._tasks),
                "units_charged": sum(c["units"] for c in self._charges),
                "credit_units": self._faults.credit_units,
                "charges": [dict(c) for c in self._charges],
                "units_by_task": {c["task_id"]: c["units"] for c in self._charges},
                "tasks": [t.summary() for t in self._tasks.values()],
                **self.ledger.snapshot(),
            }

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._uploads.clear()
            self._tasks.clear()
            self._charges.clear()
            self.ledger.clear()
            self._limits.reset()
            self._finished.notify_all()
