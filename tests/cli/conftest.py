"""The CLI against a local stack of its own (package scope: it is gone before tests/e2e starts theirs, since
only one local stack can run per process). Commands run in process through `main()`, pointed at the stack by
the same state file `make local-up` writes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faceswap_cli.main import main
from local.pipeline import LocalPipeline
from local.serve import write_state_file
from tests.conftest import Synthesized

TIME_SCALE = 0.05


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class LocalCli:
    pipeline: LocalPipeline
    state_file: Path

    def __call__(self, *args: str | Path) -> CliRun:
        """`faceswap --local --state-file ... ARGS` in process; stdout and stderr captured."""
        out, err = io.StringIO(), io.StringIO()
        code = main(["--local", "--state-file", str(self.state_file), *map(str, args)], stdout=out, stderr=err)
        return CliRun(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="package")
def cli(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCli]:
    state_file = tmp_path_factory.mktemp("cli-state") / ".local-stack.json"
    with LocalPipeline(synthesized.outdir, time_scale=TIME_SCALE) as pipeline:
        write_state_file(pipeline, state_file, TIME_SCALE)
        yield LocalCli(pipeline, state_file)
