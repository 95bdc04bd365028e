"""Run moto's Lambda functions from their own code zips in warm worker processes (no Docker).

`LambdaRuntime.install()` replaces `moto.awslambda.models.LambdaFunction._invoke_lambda` (moto 5.2.5), the one
hook behind `lambda.invoke`, Step Functions' `lambda:invoke` (incl. `.waitForTaskToken`) and S3 -> Lambda
notifications. Each function version gets a `WorkerPool` whose workers see only a Lambda-like environment
(the function's variables, fake credentials, `AWS_ENDPOINT_URL` = moto), run with the extracted bundle as
cwd and first import path, and are killed at the function timeout. Non-Python functions (CDK's Node.js
custom-resource providers) are not run: a CloudFormation request gets a no-op SUCCESS. The workers run on
`infra.bundling.local_python()`: the functions' CPython 3.13 where one is installed, else this interpreter (the
local synth bundles wheels for whichever it is); which one is logged once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.s3 import notifications as s3_notifications

from infra.bundling import RUNTIME_PYTHON, interpreter_facts, local_python
from local.aws.lambda_async import AsyncInvoker
from local.aws.lambda_pool import FunctionConfig, WorkerPool
from local.aws.lambda_worker import RECORDER_ENV
from local.aws.patches import Patches
from local.aws.server import FAKE_CREDENTIALS

LogListener = Callable[[str, str], None]  # (function name, line)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invocation:
    function_name: str
    request_id: str
    event: Any
    result: Any  # the decoded return value; None when the invocation failed
    error: dict[str, Any] | None  # {"errorMessage", "errorType", ...} like Lambda's error payload
    duration_s: float
    max_memory_mb: int


class LambdaRuntime:
    def __init__(self, endpoint_url: str, *, max_workers_per_function: int = 4,
                 async_invocations: bool = False, retry_async_errors: bool = False,
                 async_retry_delays: Sequence[float] = (0.5, 1.0), python: str | None = None,
                 harness_environment: Mapping[str, str] | None = None) -> None:
        self.endpoint_url = endpoint_url
        self.python = python or local_python()
        self._harness_environment = dict(harness_environment or {})  # for the harness's own hooks (call_log.py)
        self._max_workers = max_workers_per_function
        self._root = Path(tempfile.mkdtemp(prefix="local-lambda-"))
        self._pools: dict[tuple[Any, ...], WorkerPool] = {}
        self._lock = threading.Lock()  # guards the records and the log
        self._pools_lock = threading.Lock()
        self._invocations: list[Invocation] = []
        self._log: list[tuple[str, str]] = []
        self._listeners: list[LogListener] = []
        self._async = AsyncInvoker(self.run_with_id, endpoint_url, retry_errors=retry_async_errors,
                                   retry_delays=async_retry_delays, log=self._emit) if async_invocations else None
        self._patches = Patches()

    # --- observation -------------------------------------------------------------------------------------
    @property
    def max_workers_per_function(self) -> int:
        """How many invocations of one function run at once; more wait for a worker."""
        return self._max_workers

    @property
    def invocations(self) -> list[Invocation]:
        with self._lock:
            return list(self._invocations)

    def log_lines(self, function_name: str | None = None) -> list[str]:
        with self._lock:
            return [line for name, line in self._log if function_name in (None, name)]

    def add_log_listener(self, listener: LogListener) -> None:
        """Called from worker threads with every log line as it is written (the demo's progress view)."""
        self._listeners.append(listener)

    def wait_for_async(self, timeout: float = 30.0) -> bool:
        return self._async.wait_idle(timeout) if self._async else True

    # --- lifecycle ---------------------------------------------------------------------------------------
    def install(self) -> LambdaRuntime:
        global _active
        if _active is not None and _active is not self:
            raise RuntimeError("another LambdaRuntime is installed")
        _active = self
        self._patches.apply(LambdaFunction, "_invoke_lambda", _invoke_lambda)
        self._patches.apply(LambdaFunction, "invoke", _invoke)
        self._patches.apply(s3_notifications, "_invoke_awslambda", _s3_notification)
        _log_interpreter(self.python)
        return self

    def shutdown(self) -> None:
        global _active
        if self._async:
            self._async.shutdown()
        self._patches.undo()
        if _active is self:
            _active = None
        with self._pools_lock:
            pools, self._pools = list(self._pools.values()), {}
        closing = [threading.Thread(target=pool.shutdown) for pool in pools]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()
        shutil.rmtree(self._root, ignore_errors=True)

    # --- invocation --------------------------------------------------------------------------------------
    def run(self, fn: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        """Run one invocation; returns moto's `(payload, is_error, logs)`."""
        payload, is_error, logs, _ = self.run_with_id(fn, event)
        return payload, is_error, logs

    def run_with_id(self, fn: LambdaFunction, event: Any, request_id: str | None = None) -> tuple[str, bool, str, str]:
        """`run`, plus the invocation's request id (given by the caller for the retries of one async event)."""
        request_id = request_id or str(uuid.uuid4())
        if not str(fn.run_time).startswith("python"):
            return (*self._acknowledge_foreign(fn, event, request_id), request_id)
        config = function_config(fn)
        started = time.monotonic()
        reply = self._pool_for(config, fn.code_bytes).invoke(event, request_id)
        result = json.loads(reply.payload) if reply.payload is not None else None
        self._record(Invocation(config.name, request_id, event, result, reply.error,
                                time.monotonic() - started, reply.max_memory_mb))
        logs = "\n".join(reply.log_lines)
        fn.logs_backend.ensure_log_group(fn.logs_group_name)
        fn.save_logs(logs)  # also into moto's CloudWatch Logs, /aws/lambda/<name>
        if reply.error is not None:
            return json.dumps(reply.error), True, logs, request_id
        return reply.payload or "null", False, logs, request_id

    def invoke_async(self, fn: LambdaFunction, event: Any) -> bool:
        """Queue an Event invocation; False when asynchronous invocations are not enabled."""
        if self._async is None:
            return False
        self._async.submit(fn, event)
        return True

    def _pool_for(self, config: FunctionConfig, code_bytes: bytes) -> WorkerPool:
        with self._pools_lock:
            pool = self._pools.get(config.pool_key)
            if pool is None:
                # One read-only copy per bundle, shared by the functions built from it (like /var/task).
                code_dir = self._root / f"code-{hashlib.sha256(code_bytes).hexdigest()[:16]}"
                if not code_dir.exists():
                    zipfile.ZipFile(io.BytesIO(code_bytes)).extractall(code_dir)
                pool = WorkerPool(config, code_dir, self._environment(config, code_dir),
                                  functools.partial(self._emit, config.name), self._max_workers, self.python)
                self._pools[config.pool_key] = pool
            return pool

    def _environment(self, config: FunctionConfig, code_dir: Path) -> dict[str, str]:
        region = config.arn.split(":")[3]
        base = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8", "TZ": ":UTC",
            **FAKE_CREDENTIALS, "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "LAMBDA_TASK_ROOT": str(code_dir), "_HANDLER": config.handler,
        }
        environment = {**base, **config.environment, "AWS_ENDPOINT_URL": self.endpoint_url}
        environment.pop(RECORDER_ENV, None)  # only the harness asks a worker to record its calls, never a template
        return {**environment, **self._harness_environment}

    def _acknowledge_foreign(self, fn: LambdaFunction, event: Any, request_id: str) -> tuple[str, bool, str]:
        if isinstance(event, dict) and "ResponseURL" in event and "RequestType" in event:
            _send_cfn_success(event, reason=f"{fn.run_time} provider not run locally")
            self._emit(fn.function_name, f"custom resource {event['LogicalResourceId']}: acknowledged (no-op)")
            self._record(Invocation(fn.function_name, request_id, event, {}, None, 0.0, 0))
            return "{}", False, ""
        error = {"errorType": "Runtime.Unsupported",
                 "errorMessage": f"runtime {fn.run_time} is not supported by the local Lambda runtime"}
        return json.dumps(error), True, ""

    def _record(self, invocation: Invocation) -> None:
        with self._lock:
            self._invocations.append(invocation)

    def _emit(self, function_name: str, line: str) -> None:
        with self._lock:
            self._log.append((function_name, line))
        for listener in list(self._listeners):
            listener(function_name, line)


def function_config(fn: LambdaFunction) -> FunctionConfig:
    return FunctionConfig(
        name=fn.function_name, arn=fn.function_arn.split(":$LATEST")[0], handler=str(fn.handler),
        runtime=str(fn.run_time), timeout_s=float(fn.timeout), memory_mb=int(fn.memory_size),
        log_group=fn.logs_group_name, code_sha=str(fn.code_sha_256),
        environment={k: str(v) for k, v in (fn.environment_vars or {}).items()})


def _log_interpreter(python: str) -> None:
    version = interpreter_facts(python)[0]
    if version == RUNTIME_PYTHON:
        log.info("local Lambda workers: CPython %s (%s), as the python%s runtime", version, python, RUNTIME_PYTHON)
    else:
        log.warning("local Lambda workers: CPython %s (%s): no CPython %s here, the functions' runtime version",
                    version, python, RUNTIME_PYTHON)


def _send_cfn_success(event: dict[str, Any], reason: str) -> None:
    body = {"Status": "SUCCESS", "Reason": reason, "PhysicalResourceId": event["LogicalResourceId"],
            "StackId": event["StackId"], "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"], "Data": {}}
    request = urllib.request.Request(event["ResponseURL"], data=json.dumps(body).encode(), method="PUT",
                                     headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


# --- moto hooks (module functions: moto calls them as methods of LambdaFunction) -----------------------------
_active: LambdaRuntime | None = None


def _runtime() -> LambdaRuntime:
    if _active is None:
        raise RuntimeError("no LambdaRuntime installed")
    return _active


def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    if event is None or event == "{}":  # moto passes "{}" (a string) for an empty payload
        event = {}
    return _runtime().run(self, event)


def _invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> str | bytes:
    """moto's `LambdaFunction.invoke`, plus background runs for Event invocations when enabled."""
    headers = {str(k).lower(): v for k, v in dict(request_headers or {}).items()}
    invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
    if invocation_type == "DryRun":  # permission check only: nothing runs
        return b""
    event = json.loads(body) if body else {}
    if invocation_type == "Event" and _runtime().invoke_async(self, event):
        return b""
    payload, is_error, logs = _invoke_lambda(self, event)
    if is_error:
        response_headers["x-amz-function-error"] = "Unhandled"
    if invocation_type == "RequestResponse":
        tail = logs.encode()[-4096:]  # Lambda returns the last 4 KB of the log
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        return payload.encode()
    return payload


def _s3_notification(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    """S3 invokes Lambda asynchronously: queue it when enabled, else run it inline like moto does."""
    from moto.awslambda.utils import get_backend

    try:
        fn = get_backend(account_id, region_name).get_function(fn_arn)
        fn.invoke(json.dumps(event_body), {"X-Amz-Invocation-Type": "Event"}, {})
    except Exception as exc:  # AWS never fails the PutObject for this; make the failure visible at least
        _runtime()._emit(fn_arn.split(":")[6] if fn_arn.count(":") >= 6 else fn_arn, f"S3 notification failed: {exc}")
