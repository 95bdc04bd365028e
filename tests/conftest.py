"""Session-wide fixtures: the CDK app is synthesized once and shared by the template and end-to-end tests; the test
media are made once (tests/media.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.app import STACK_NAME, build_app
from tests.media import Media


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    stack: cdk.Stack
    outdir: Path

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{STACK_NAME}.template.json"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The same synth as `make synth`, with context that suits the local stack (short run timeout)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    app = build_app(outdir=str(outdir), context=LOCAL_TEST_CONTEXT)
    app.synth()
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, cdk.Stack)
    yield Synthesized(app, stack, outdir)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """Every kind of test media, each encoded once per session on first use (tests/emulator has its own)."""
    return Media(tmp_path_factory.mktemp("media"))


# Small limits so that the failure paths (poll limit, webhook wait, run timeout) are reachable in a test run;
# Wait states are time-scaled by the local stack, not these values.
LOCAL_TEST_CONTEXT: dict[str, object] = {
    "faceswap:max_polls": 40,
    "faceswap:webhook_wait_minutes": 30,
    "faceswap:run_timeout_minutes": 60,
}
