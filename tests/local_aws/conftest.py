"""One synthesized test app and one deployed local stack for the whole package (package scope, so the
stack is gone before other packages' tests start their own)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.aws.stack import LocalStack

APP = Path(__file__).parent / "app" / "app.py"
STACK_NAME = "HarnessTest"
TIME_SCALE = 0.02  # a 60 s Wait lasts 1.2 s


@pytest.fixture(scope="package")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cdk.out")
    env = {**os.environ, "CDK_OUTDIR": str(out), "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
           "PYTHONPATH": str(APP.parents[3])}  # the repo: the app builds the probe's bundle with infra.bundling
    result = subprocess.run([sys.executable, str(APP)], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="package")
def aws(cdk_out: Path) -> Iterator[LocalStack]:
    with LocalStack(cdk_out, STACK_NAME, time_scale=TIME_SCALE, parameters={"Greeting": "hi"},
                    async_invocations=True, retry_async_errors=True, async_retry_delays=(0.05,)) as stack:
        yield stack
