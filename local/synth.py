"""Synthesize the CDK app for the local stack, in a child process (jsii's Node runtime stays out of ours)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def synthesize(outdir: Path, context: dict[str, object] | None = None) -> Path:
    """Same as `make synth` (cdk.json context), plus `context` overrides, with the Lambda assets built for the local
    stack's interpreter (the same code, wheels for this machine: see infra.functions)."""
    cdk_json = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    local = {**cdk_json, "faceswap:local_assets": True, **(context or {})}
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
           "CDK_CONTEXT_JSON": json.dumps(local)}
    # jsii prints a Node end-of-life banner on every run: show the child's output only when synth fails.
    result = subprocess.run([sys.executable, "-m", "infra.app"], env=env, cwd=ROOT, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"CDK synth failed:\n{result.stdout}\n{result.stderr}")
    return Path(outdir)
