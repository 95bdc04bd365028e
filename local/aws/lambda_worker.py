"""A warm Lambda "container": runs one function's handler for each request the parent sends.

Started by `lambda_pool.Worker` as `python -I lambda_worker.py <code_dir> <module.handler>` with the function's
environment. Standard library only, and it must not import the project: sys.path is the code dir plus the
interpreter's own library and site-packages (standing in for the runtime's boto3).

Protocol: the parent writes requests to stdin and reads replies from the original stdout, each a 4-byte
big-endian length followed by JSON. The handler's prints and logs go to fd 2 (fd 1 is redirected there), which
the parent reads as the function's log stream, delimited by Lambda's `START`/`END RequestId` lines.

When the harness sets `_LOCAL_AWS_CALL_RECORDER` (never a template: the harness's value wins), every botocore call
the function makes is appended to the harness's call log as one JSON line: the function, the service and operation,
and only the parameters IAM's resources and condition keys depend on (no bodies, no values, no secrets).
"""

from __future__ import annotations

import decimal
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import json
import logging
import os
import resource
import struct
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO

Handler = Callable[[Any, Any], Any]
HEADER = struct.Struct(">I")
RECORDER_ENV = "_LOCAL_AWS_CALL_RECORDER"


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = fields["function_version"]
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: str = str(fields["memory_limit_in_mb"])  # a string in the real runtime too
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = fields["log_group_name"]
        self.log_stream_name: str = fields["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = fields["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class FunctionError(Exception):
    """An error the runtime itself reports (import failures, unmarshallable results)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class HandlerLoader:
    """Imports the handler at the first invocation (the cold start) and again after a failed import."""

    def __init__(self, handler_spec: str) -> None:
        self.module_name, _, self.function_name = handler_spec.replace("/", ".").rpartition(".")
        self._handler: Handler | None = None

    def handler(self) -> Handler:
        if self._handler is None:
            self._handler = self._load()
        return self._handler

    def _load(self) -> Handler:
        try:
            module = importlib.import_module(self.module_name)
        except Exception as exc:
            for name in [n for n in sys.modules if n == self.module_name or n.startswith(self.module_name + ".")]:
                del sys.modules[name]
            raise FunctionError("Runtime.ImportModuleError",
                                f"Unable to import module '{self.module_name}': {exc}") from exc
        handler = getattr(module, self.function_name, None)
        if not callable(handler):
            raise FunctionError("Runtime.HandlerNotFound",
                                f"Handler '{self.function_name}' missing on module '{self.module_name}'")
        return handler


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


_request_id_filter = _RequestIdFilter()


def _install_lambda_log_handler() -> None:
    # The Python runtime gives the root logger this handler; the level stays WARNING as there.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(_request_id_filter)
    logging.getLogger().addHandler(handler)


def _decimal_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)  # what the Python runtime's serializer does
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _log(line: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(2, (line + "\n").encode())


def _error_body(exc: BaseException, request_id: str) -> dict[str, Any]:
    if isinstance(exc, FunctionError):
        _log(f"[ERROR] {exc.error_type}: {exc}")
        return {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": request_id, "stackTrace": []}
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:  # the runtime's own frames
        tb = tb.tb_next
    error_type = type(exc).__name__
    _log(f"[ERROR] {error_type}: {exc}\n" + "".join(traceback.format_exception(type(exc), exc, tb)).rstrip())
    return {"errorMessage": str(exc), "errorType": error_type, "requestId": request_id,
            "stackTrace": traceback.format_list(traceback.extract_tb(tb))}


def invoke(loader: HandlerLoader, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(request["context"])
    request_id = context.aws_request_id
    _request_id_filter.request_id = request_id
    # Sampled=0: X-Ray SDKs (Powertools Tracer) see a trace header but send nothing, as in PassThrough mode.
    os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
    _log(f"START RequestId: {request_id} Version: {context.function_version}")
    reply: dict[str, Any]
    try:
        result = loader.handler()(request["event"], context)
        try:
            reply = {"payload": json.dumps(result, default=_decimal_default)}
        except (TypeError, ValueError) as exc:
            raise FunctionError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc
    except Exception as exc:
        reply = {"error": _error_body(exc, request_id)}
    _log(f"END RequestId: {request_id}")
    reply["max_memory_mb"] = _peak_memory_mb()
    return reply


def _peak_memory_mb() -> int:
    # VmHWM restarts at exec; ru_maxrss would still count the (large) parent this process was forked from.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    return json.loads(stream.read(length))


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _isolate_import_path(code_dir: str) -> None:
    # Keep only the interpreter's own library and site-packages: the bundle must bring everything else.
    prefixes = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
    sys.path[:] = [code_dir, *(p for p in sys.path if p and p.startswith(prefixes))]


# --- the call recorder (stdlib only: botocore is patched when the handler first imports it) ------------------
# Parameters that name what IAM checks (a bucket and key, a table, a function, a queue...) or that decide a condition
# key or an extra action (an ACL, tags, a projection): kept. Everything else (bodies, expressions, values): dropped.
RECORDED_PARAMETERS = frozenset({
    "Bucket", "Key", "Prefix", "Delimiter", "CopySource", "VersionId", "ACL", "Tagging", "ServerSideEncryption",
    "SSEKMSKeyId", "ObjectLockMode", "ObjectLockLegalHoldStatus", "TableName", "IndexName", "Keys",
    "ExclusiveStartKey", "Select", "ReturnValues", "ProjectionExpression", "AttributesToGet", "FunctionName",
    "Qualifier", "InvocationType", "StateMachineArn", "stateMachineArn", "executionArn", "name", "SecretId",
    "VersionStage", "QueueUrl", "QueueName", "EventBusName", "Source", "DetailType", "TopicArn", "TargetArn",
    "logGroupName", "LogGroupName", "Namespace", "StreamArn"})
NESTED_PARAMETERS = frozenset({"RequestItems", "TransactItems", "Get", "Put", "Update", "Delete", "ConditionCheck",
                               "PutRequest", "DeleteRequest", "Entries"})
TOKEN_PARAMETERS = frozenset({"taskToken", "TaskToken"})


def token_digest(token: str) -> str:
    """A task token stands for its task: the log keeps a digest, enough to find the execution that issued it."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def scrub_parameters(params: Any, item_keys: frozenset[str], name: str = "") -> Any:
    """What is kept of a call's parameters (see RECORDED_PARAMETERS); `item_keys` are the tables' key attributes,
    the only attributes of an `Item` kept (IAM's dynamodb:LeadingKeys is its partition key)."""
    if name in TOKEN_PARAMETERS and isinstance(params, str):
        return token_digest(params)
    if name == "Item" and isinstance(params, dict):
        return {k: v for k, v in params.items() if k in item_keys}
    if name == "RequestItems" and isinstance(params, dict):  # table name -> requests
        return {table: scrub_parameters(v, item_keys, "Entries") for table, v in params.items()}
    if isinstance(params, list):
        return [scrub_parameters(v, item_keys, name) for v in params]
    if isinstance(params, dict) and (name in NESTED_PARAMETERS or not name):
        return {k: scrub_parameters(v, item_keys, k) for k, v in params.items()
                if k in RECORDED_PARAMETERS or k in NESTED_PARAMETERS or k in TOKEN_PARAMETERS or k == "Item"}
    return params


class CallRecorder(importlib.abc.MetaPathFinder):
    """Appends one JSON line per botocore call to the harness's log. Installed as an import hook, so that
    `botocore.client.BaseClient._make_api_call` is wrapped as soon as the handler imports boto3 (at no cost before)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._fd = os.open(config["path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._session = config["session"]
        self._item_keys = frozenset(config.get("item_keys", ()))
        self._principal = {"type": "function", "name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")}

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "botocore.client":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def exec_then_wrap(module: Any) -> None:
                exec_module(module)
                self.wrap(module.BaseClient)
                self.wrap_presigning(sys.modules["botocore.signers"])

            spec.loader.exec_module = exec_then_wrap  # type: ignore[method-assign]
        return spec

    def wrap(self, base_client: Any) -> None:
        make_api_call = base_client._make_api_call

        def recorded_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            self.record(client.meta.service_model.service_name, operation_name, api_params, client.meta.region_name)
            return make_api_call(client, operation_name, api_params)

        base_client._make_api_call = recorded_call

    def wrap_presigning(self, signers: Any) -> None:
        """A presigned URL is a call made later by whoever holds it, authorised against the signer's role: recorded
        as the signer's call when signed (S3 clients get `generate_presigned_url` when their class is created)."""
        generate = signers.generate_presigned_url

        def recorded_presign(client: Any, ClientMethod: str, Params: Any = None, *args: Any, **kwargs: Any) -> Any:
            operation = client.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
            self.record(client.meta.service_model.service_name, operation, Params or {}, client.meta.region_name,
                        via="presigned URL")
            return generate(client, ClientMethod, Params, *args, **kwargs)

        signers.generate_presigned_url = recorded_presign

    def record(self, service: str, operation: str, params: dict[str, Any], region: str | None,
               via: str = "SDK call") -> None:
        line = json.dumps({"kind": "call", "session": self._session, "principal": self._principal,
                           "service": service, "operation": operation, "region": region, "via": via,
                           "params": scrub_parameters(params, self._item_keys)}, default=str)
        os.write(self._fd, (line + "\n").encode())


def _install_call_recorder() -> None:
    config = os.environ.pop(RECORDER_ENV, None)  # the handler need not see it
    if not config:
        return
    recorder = CallRecorder(json.loads(config))
    if "botocore.client" in sys.modules:
        recorder.wrap(sys.modules["botocore.client"].BaseClient)
        recorder.wrap_presigning(sys.modules["botocore.signers"])
    else:
        sys.meta_path.insert(0, recorder)


def main() -> None:
    code_dir, handler_spec = sys.argv[1], sys.argv[2]
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the handler's stdout joins the log stream; the reply channel stays private
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _isolate_import_path(code_dir)
    os.chdir(code_dir)
    _install_lambda_log_handler()
    _install_call_recorder()
    loader = HandlerLoader(handler_spec)
    while (request := read_message(requests)) is not None:
        write_message(replies, invoke(loader, request))


if __name__ == "__main__":
    main()
