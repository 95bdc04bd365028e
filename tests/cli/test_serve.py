"""`make local-up` (python -m local.serve): starts, writes the state file the CLI reads, stops on Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from faceswap_cli.main import main
from local.eventually import eventually
from tests.conftest import Synthesized

ROOT = Path(__file__).resolve().parents[2]


def test_local_up_serves_the_cli_until_interrupted(synthesized: Synthesized, tmp_path: Path) -> None:
    state_file = tmp_path / ".local-stack.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "local.serve", "--no-synth", "--cdk-out", str(synthesized.outdir),
         "--moto-port", "0", "--emulator-port", "0", "--api-port", "0", "--state-file", str(state_file)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Until the state file is written, or the server has exited (its output then says why).
        eventually(lambda: state_file.exists() or server.poll() is not None, 90, interval=0.2, what="the state file")
        assert state_file.exists(), server.stdout.read() if server.poll() is not None and server.stdout else ""
        assert json.loads(state_file.read_text())["pid"] == server.pid

        out, err = io.StringIO(), io.StringIO()
        code = main(["--local", "--state-file", str(state_file), "list"], stdout=out, stderr=err)
        assert code == 0 and "No jobs yet" in err.getvalue()

        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0
        assert not state_file.exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
