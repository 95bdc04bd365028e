"""The local stack for end-to-end tests: the session's synthesized template deployed into moto, the vendor
emulator, webhooks through the local API front. One deployment per session; each test gets a clean emulator.
Their media: the session's `media` fixture (tests/media.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.emulator import EmulatorConfig
from local.pipeline import LocalPipeline
from tests.conftest import Synthesized

# Wait states and Step Functions timeouts run 20x faster than on AWS: a 5 s polling_interval takes 0.25 s.
TIME_SCALE = 0.05


@pytest.fixture(scope="package")
def local_pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    """Package-scoped: torn down before other packages start their own local AWS (one may run at a time)."""
    with LocalPipeline(synthesized.outdir, EmulatorConfig(), time_scale=TIME_SCALE) as pipeline:
        yield pipeline


@pytest.fixture
def pipeline(local_pipeline: LocalPipeline) -> Iterator[LocalPipeline]:
    """The shared stack with the emulator's faults, counters and settings back to their defaults, and every
    admission slot free."""
    emulator = local_pipeline.emulator
    emulator.reset()
    emulator.config.polling_interval_seconds = None
    local_pipeline.reset_admission()
    yield local_pipeline
    emulator.reset()
    emulator.config.polling_interval_seconds = None
