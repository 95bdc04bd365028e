"""`python -m bench --smoke` end to end: every section runs on the real local stack at tiny sizes and reports.

Benchmarks themselves are not part of `make test` (timings on a shared machine are not test assertions); this
only proves that the benchmark code works, so that `make bench` does not rot.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.bundling import SHARED_ASSET, build_lambda_asset, local_target
from tests.conftest import Synthesized

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ["ttr", "cost", "burst", "inputs", "streaming", "webhook", "coldstart", "admission"]


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_every_section_runs_in_smoke_mode(synthesized: Synthesized, tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    build_lambda_asset(SHARED_ASSET, local_target(sys.executable))  # the sections that import it beside the repo's
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--cdk-out", str(synthesized.outdir),
                           "--json", str(report)], cwd=ROOT, capture_output=True, text=True, timeout=290,
                          check=False)
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["smoke"] is True and data["failed"] == []
    assert [s["name"] for s in data["sections"]] == SECTIONS
    for section in data["sections"]:
        assert section["rows"], f"{section['name']} reported nothing"
        assert section["notes"], f"{section['name']} does not say how it measured"
    targets = [row["target"] for s in data["sections"] for row in s["rows"] if row["target"]]
    assert len(targets) >= 1 + 4 + 1 + 7 + 2  # ttr p50/p95, streaming 4, webhook 1, one per handler, 2 lengths
    assert "every target met" not in done.stdout.lower()  # smoke runs never judge
    assert "| 1 TIME TO RESULT" in done.stdout and "| 5 COST MODEL" in done.stdout
    assert elapsed < 200, f"the smoke run took {elapsed:.0f} s"
