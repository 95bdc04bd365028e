"""Worker processes on their own (no moto): the reply channel, runtime errors and log capture."""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from local.aws.api_events import http_response
from local.aws.cfn_shims import cfn_strings
from local.aws.lambda_pool import FunctionConfig, Reply, WorkerPool

Invoke = Callable[..., Reply]
HANDLERS = textwrap.dedent('''
    import os, sys
    def noisy(event, context):
        print("to stdout")
        print("to stderr", file=sys.stderr)
        os.write(1, b"raw fd 1\\n")
        return {"echo": event, "remaining": context.get_remaining_time_in_millis() > 0}
    def unmarshallable(event, context):
        return {1, 2}
    def exits(event, context):
        sys.exit(3)
''')


@pytest.fixture()
def code_dir(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(HANDLERS)
    return tmp_path


@pytest.fixture()
def lines() -> list[str]:
    return []


def make_pool(code_dir: Path, handler: str, lines: list[str]) -> WorkerPool:
    config = FunctionConfig(name="fn", arn="arn:aws:lambda:us-east-1:123456789012:function:fn", handler=handler,
                            runtime="python3.11", timeout_s=5, memory_mb=128, log_group="/aws/lambda/fn",
                            code_sha="sha")
    return WorkerPool(config, code_dir, {"PATH": "/usr/bin:/bin"}, lines.append)


@pytest.fixture()
def call(code_dir: Path, lines: list[str]) -> Iterator[Invoke]:
    pools: list[WorkerPool] = []

    def invoke(handler: str, event: object = None) -> Reply:
        pools.append(make_pool(code_dir, handler, lines))
        return pools[-1].invoke(event, str(uuid.uuid4()))

    yield invoke
    for pool in pools:
        pool.shutdown()


def test_handler_output_never_corrupts_the_reply(call: Invoke, lines: list[str]) -> None:
    reply = call("app.noisy", {"a": 1})
    assert reply.payload is not None
    assert json.loads(reply.payload) == {"echo": {"a": 1}, "remaining": True}
    assert {"to stdout", "to stderr", "raw fd 1"} <= set(reply.log_lines)
    assert reply.log_lines[0].startswith("START RequestId:") and reply.log_lines[-1].startswith("REPORT")
    assert lines == reply.log_lines  # the sink saw the same lines as they came


@pytest.mark.parametrize(("handler", "error_type", "message"), [
    ("missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing'"),
    ("app.nothing", "Runtime.HandlerNotFound", "Handler 'nothing' missing on module 'app'"),
    ("app.unmarshallable", "Runtime.MarshalError", "Unable to marshal response"),
    ("app.exits", "Runtime.ExitError", "Runtime exited with error: exit status 3"),
])
def test_runtime_errors_are_shaped_like_lambda(call: Invoke, handler: str, error_type: str, message: str) -> None:
    reply = call(handler)
    assert reply.payload is None and reply.error is not None
    assert reply.error["errorType"] == error_type and message in reply.error["errorMessage"]


def test_proxy_results_that_are_not_proxy_shaped_give_502() -> None:
    assert http_response(b'{"body": "no status"}')[0] == 502
    assert http_response(b'{"statusCode": 200, "body": {"not": "a string"}}')[0] == 502
    assert http_response(b"not json")[0] == 502
    status, headers, body = http_response(b'{"statusCode": 204}')
    assert (status, body, ("Content-Type", "application/json") in headers) == (204, b"", True)


def test_custom_resource_properties_become_strings() -> None:
    assert cfn_strings({"a": True, "b": [1, 2.5], "c": {"d": False, "e": "x"}}) == {
        "a": "true", "b": ["1", "2.5"], "c": {"d": "false", "e": "x"}}
