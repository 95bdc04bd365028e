"""The stack the acceptance suite runs against: the local stack by default (CI, inside `make test`), or a deployed
one named with `--acceptance-stack NAME` (`make acceptance STACK=FaceSwap`).

Either way the suite finds it by name, through its CloudFormation outputs (`discover_stack`): locally that is
moto's CloudFormation, which the local stack points boto3 at while it runs. `faceswap doctor` checks it first:
if a check fails, every scenario fails with doctor's report. Then the suite drives the stack as a user does,
through the `faceswap_cli` library and S3, with media it makes itself (tests/media.py). Nothing here switches
an emulator fault; what only the local stack can show (the vendor's own counters) is checked only there.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from faceswap_cli import Clients, JobResult, StackInfo, discover_stack, wait_for_result
from faceswap_cli.doctor import failed, format_report, run_doctor
from local.pipeline import STACK_NAME, LocalPipeline
from tests.conftest import Synthesized

LOCAL_TIME_SCALE = 0.05  # as tests/e2e: a 5 s polling interval takes 0.25 s
LOCAL_JOB_TIMEOUT = 90.0
# On AWS with the real vendor: a few seconds of video take minutes, and a job may wait its turn (QUEUED) first.
REAL_JOB_TIMEOUT = 30 * 60.0
REAL_TEST_TIMEOUT = int(REAL_JOB_TIMEOUT * 2 + 300)  # a test waits for at most two jobs
# How long an upload that must change nothing is given to change something, on AWS (locally: until idle).
REAL_SETTLE_SECONDS = 90.0


@dataclass(frozen=True)
class Target:
    """The stack under test and how to wait on it."""

    stack: StackInfo
    clients: Clients
    local: LocalPipeline | None  # None: a deployed stack (no emulator to ask)
    run_id: str  # job names are unique per run: a deployed stack keeps earlier runs' jobs

    def name(self, scenario: str) -> str:
        return f"acceptance-{self.run_id}-{scenario}"

    def wait(self, job_id: str) -> JobResult:
        timeout, interval = (LOCAL_JOB_TIMEOUT, 0.2) if self.local else (REAL_JOB_TIMEOUT, 10.0)
        return wait_for_result(self.clients, self.stack, job_id, timeout, poll_interval=interval)

    def settle(self) -> None:
        """Give the pipeline time to act on what was just uploaded (and fail a test that expects nothing)."""
        if self.local is None:
            time.sleep(REAL_SETTLE_SECONDS)
            return
        stack = self.local.stack
        assert stack.event_sources.wait_idle(timeout=60), stack.event_sources.describe()
        assert stack.runtime.wait_for_async(timeout=60)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--acceptance-stack"):  # jobs on AWS outlast the suite-wide per-test timeout
        for item in items:
            if "tests/acceptance/" in item.nodeid.replace("\\", "/"):
                item.add_marker(pytest.mark.timeout(REAL_TEST_TIMEOUT))


@pytest.fixture(scope="package")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    run_id = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + uuid.uuid4().hex[:4]
    name = request.config.getoption("--acceptance-stack")
    if name:
        stack = _ready(discover_stack(boto3.Session(), str(name)))
        yield Target(stack, Clients.for_stack(stack), None, run_id)
        return
    synthesized: Synthesized = request.getfixturevalue("synthesized")
    with LocalPipeline(Path(synthesized.outdir), time_scale=LOCAL_TIME_SCALE) as pipeline:
        stack = discover_stack(boto3.Session(), STACK_NAME)  # moto's CloudFormation (AWS_ENDPOINT_URL is set)
        # The stack's WebhookUrl output is moto's made-up API Gateway URL: the local front serves it.
        stack = _ready(dataclasses.replace(stack, webhook_url=pipeline.webhook_url), local=True)
        yield Target(stack, Clients.for_stack(stack), pipeline, run_id)


def _ready(stack: StackInfo, *, local: bool = False) -> StackInfo:
    """`faceswap doctor` first: a deployed stack that is not ready ends the run with doctor's report, before a job
    spends anything (the local one fails the suite's tests instead: `make test` goes on)."""
    checks = run_doctor(stack)
    if failed(checks):
        report = format_report(f"faceswap doctor: stack {stack.name} is not ready", checks)
        if local:
            pytest.fail(report, pytrace=False)
        pytest.exit(report, returncode=1)
    return stack
