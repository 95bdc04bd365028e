"""Warm worker processes for one function version: a pool that grows while busy, like Lambda containers.

`Worker` owns one `lambda_worker.py` subprocess: it sends a request, waits for the reply until the function's
deadline (then kills the process, as Lambda ends a timed-out sandbox) and collects the lines the handler logged
for that request. `WorkerPool` hands out idle workers and starts new ones up to a limit. The workers run on
`infra.bundling.local_python()` unless told: the runtime's CPython 3.13 (.venv-runtime) where it is installed.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.bundling import local_python
from local.aws.lambda_worker import HEADER

WORKER_SCRIPT = str(Path(__file__).with_name("lambda_worker.py"))
LogSink = Callable[[str], None]


@dataclass(frozen=True)
class FunctionConfig:
    """What a worker needs to know about a function version."""

    name: str
    arn: str
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    log_group: str
    code_sha: str
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def pool_key(self) -> tuple[Any, ...]:
        # A new code zip or configuration gets fresh workers, as a new Lambda version would.
        return (self.arn, self.code_sha, self.handler, self.timeout_s, self.memory_mb,
                tuple(sorted(self.environment.items())))


@dataclass
class Reply:
    payload: str | None  # the handler's result as JSON text, None when the invocation failed
    error: dict[str, Any] | None
    log_lines: list[str]
    max_memory_mb: int = 0


class _WorkerGone(Exception):
    pass


class Worker:
    """One warm sandbox: a subprocess serving one invocation at a time."""

    def __init__(self, config: FunctionConfig, code_dir: Path, environment: Mapping[str, str],
                 sink: LogSink, python: str | None = None) -> None:
        self.config = config
        self.alive = True
        self.log_stream_name = f"{datetime.datetime.now(datetime.UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._sink = sink
        self._tmp = tempfile.mkdtemp(prefix="lambda-tmp-")  # a private /tmp per sandbox
        env = {**environment, "TMPDIR": self._tmp, "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream_name}
        self._process = subprocess.Popen(
            [python or local_python(), "-I", WORKER_SCRIPT, str(code_dir), config.handler],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=code_dir, env=env, bufsize=0,
            start_new_session=True)  # its own process group: a timeout ends whatever the handler spawned too
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._end_marker = ""
        self._end_seen = threading.Event()
        self._reader = threading.Thread(target=self._read_logs, name=f"lambda-logs-{config.name}", daemon=True)
        self._reader.start()

    def call(self, event: Any, request_id: str) -> Reply:
        started = time.monotonic()
        deadline = started + self.config.timeout_s
        with self._lock:
            self._lines, self._end_marker = [], f"END RequestId: {request_id}"
            self._end_seen.clear()
        request = {"event": event, "context": self._context(request_id, deadline)}
        try:
            self._send(request)
            message = self._receive(deadline)
        except TimeoutError:
            return self._fail(request_id, started, _timeout_error(request_id, self.config.timeout_s),
                              f"{_now_iso()} {request_id} Task timed out after {self.config.timeout_s:.2f} seconds")
        except _WorkerGone:
            return self._fail(request_id, started, self._exit_error(request_id), "")
        self._end_seen.wait(timeout=5)  # the log reader runs behind the reply channel
        self._emit(_report_line(request_id, started, self.config.memory_mb, message["max_memory_mb"]))
        return Reply(message.get("payload"), message.get("error"), self._take_lines(), message["max_memory_mb"])

    def request_exit(self) -> None:
        """End of input: the worker finishes its loop and exits (see `close`)."""
        self.alive = False
        with contextlib.suppress(OSError):
            self._process.stdin.close()  # type: ignore[union-attr]

    def close(self) -> None:
        self.request_exit()
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._kill()
        self._reader.join(timeout=2)  # at the end of its stderr
        for pipe in (self._process.stdout, self._process.stderr):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _context(self, request_id: str, deadline: float) -> dict[str, Any]:
        c = self.config
        deadline_ms = int((time.time() + deadline - time.monotonic()) * 1000)
        return {"function_name": c.name, "function_version": "$LATEST", "invoked_function_arn": c.arn,
                "memory_limit_in_mb": c.memory_mb, "aws_request_id": request_id, "log_group_name": c.log_group,
                "log_stream_name": self.log_stream_name, "deadline_ms": deadline_ms}

    def _send(self, request: dict[str, Any]) -> None:
        data = json.dumps(request).encode()
        try:
            self._process.stdin.write(HEADER.pack(len(data)) + data)  # type: ignore[union-attr]
        except (BrokenPipeError, OSError) as exc:
            raise _WorkerGone from exc

    def _receive(self, deadline: float) -> dict[str, Any]:
        (length,) = HEADER.unpack(self._read_exact(HEADER.size, deadline))
        return json.loads(self._read_exact(length, deadline))

    def _read_exact(self, size: int, deadline: float) -> bytes:
        fd = self._process.stdout.fileno()  # type: ignore[union-attr]
        chunks: list[bytes] = []
        while size > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if not select.select([fd], [], [], remaining)[0]:
                continue
            chunk = os.read(fd, size)
            if not chunk:
                raise _WorkerGone
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _fail(self, request_id: str, started: float, error: dict[str, Any], last_line: str) -> Reply:
        self._kill()
        self._reader.join(timeout=2)  # drain what the handler logged before it died
        if not self._end_seen.is_set():
            self._emit(f"END RequestId: {request_id}")
        self._emit(_report_line(request_id, started, self.config.memory_mb, 0))
        if last_line:
            self._emit(last_line)
        return Reply(None, error, self._take_lines())

    def _kill(self) -> None:
        self.alive = False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def _exit_error(self, request_id: str) -> dict[str, Any]:
        code = self._process.wait()
        status = f"signal: {-code}" if code < 0 else f"exit status {code}"
        return {"errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {status}"}

    def _read_logs(self) -> None:
        for raw in self._process.stderr:  # type: ignore[union-attr]
            line = raw.decode(errors="replace").rstrip("\n")
            self._emit(line)
            if line == self._end_marker:
                self._end_seen.set()

    def _emit(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
        self._sink(line)

    def _take_lines(self) -> list[str]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines


class WorkerPool:
    """Idle workers are reused (warmest first); a busy pool grows up to `max_workers`, then callers queue."""

    def __init__(self, config: FunctionConfig, code_dir: Path, environment: Mapping[str, str],
                 sink: LogSink, max_workers: int = 4, python: str | None = None) -> None:
        self.config = config
        self.python = python or local_python()
        self._code_dir = code_dir
        self._environment = dict(environment)
        self._sink = sink
        self._max_workers = max_workers
        self._idle: list[Worker] = []
        self._started = 0
        self._closed = False
        self._ready = threading.Condition()

    @property
    def size(self) -> int:
        return self._started

    def invoke(self, event: Any, request_id: str) -> Reply:
        worker = self._acquire()
        try:
            return worker.call(event, request_id)
        finally:
            self._release(worker)

    def shutdown(self) -> None:
        with self._ready:
            self._closed = True
            idle, self._idle = self._idle, []
            self._ready.notify_all()
        for worker in idle:  # let them all wind down at once
            worker.request_exit()
        for worker in idle:
            worker.close()

    def _acquire(self) -> Worker:
        with self._ready:
            while not self._idle and self._started >= self._max_workers:
                self._ready.wait()
            if self._idle:
                return self._idle.pop()
            self._started += 1
        try:
            return Worker(self.config, self._code_dir, self._environment, self._sink, self.python)
        except BaseException:
            with self._ready:
                self._started -= 1
                self._ready.notify()
            raise

    def _release(self, worker: Worker) -> None:
        with self._ready:
            keep = worker.alive and not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._started -= 1
            self._ready.notify()
        if not keep:
            worker.close()


def _timeout_error(request_id: str, timeout_s: float) -> dict[str, Any]:
    return {"errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"}


def _report_line(request_id: str, started: float, memory_mb: int, max_memory_mb: int) -> str:
    duration_ms = (time.monotonic() - started) * 1000
    return (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
            f"Max Memory Used: {max_memory_mb} MB")


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
