"""The functions' runtime: python3.13 (Amazon Linux 2023) on the architecture of faceswap:architecture (arm64 by
default), with assets built for it; a local synth builds the same code for the local stack's interpreter instead."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.bundling import (
    RUNTIME_PYTHON,
    SHARED_ASSET,
    inputs_hash,
    local_python,
    local_target,
    manylinux_platforms,
    runtime_target,
)
from infra.config import ConfigError, PipelineConfig
from infra.functions import LOCAL_ASSETS_CONTEXT
from infra.pipeline import FaceSwapPipeline
from tests.conftest import Synthesized

ROOT = Path(__file__).resolve().parents[2]


def _project_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function"
            and str(r["Properties"].get("Handler", "")).endswith(".app.lambda_handler")}


def _synth(tmp_path: Path, context: dict[str, object]) -> tuple[dict[str, Any], Path]:
    app = cdk.App(outdir=str(tmp_path), context={"faceswap:face_precheck": False, **context})
    stack = cdk.Stack(app, "Runtime")
    FaceSwapPipeline(stack, "Pipeline", PipelineConfig.from_context(app.node))
    return dict(Template.from_stack(stack).to_json()), tmp_path


def _extension_suffixes(template: dict[str, Any], outdir: Path) -> set[str]:
    """The CPython extension suffixes (".cpython-313-x86_64-linux-gnu.so") in the functions' staged assets."""
    keys = {str(props["Code"]["S3Key"]).removesuffix(".zip") for props in _project_functions(template).values()}
    return {so.name[so.name.index(".cpython-"):] for key in keys
            for so in (outdir / f"asset.{key}").rglob("*.cpython-*.so")}


def test_every_function_runs_python313_on_arm64_by_default(synthesized: Synthesized) -> None:
    functions = _project_functions(json.loads(synthesized.template_path.read_text()))
    assert len(functions) >= 7
    assert {props["Runtime"] for props in functions.values()} == {f"python{RUNTIME_PYTHON}"}
    assert {tuple(props["Architectures"]) for props in functions.values()} == {("arm64",)}
    assert PipelineConfig().architecture == "arm64"


def test_the_architecture_comes_from_context(tmp_path: Path) -> None:
    template, _ = _synth(tmp_path, {"faceswap:architecture": "x86_64", LOCAL_ASSETS_CONTEXT: True})
    assert {tuple(p["Architectures"]) for p in _project_functions(template).values()} == {("x86_64",)}


@pytest.mark.parametrize("value", ["aarch64", "ARM64", "x86", ""])
def test_an_unknown_architecture_stops_the_synth(value: str) -> None:
    with pytest.raises(ConfigError, match="architecture must be arm64 or x86_64"):
        PipelineConfig.from_context(cdk.App(context={"faceswap:architecture": value}).node)


def test_a_deployment_synth_bundles_for_the_runtime_and_a_local_one_for_the_local_interpreter(tmp_path: Path) -> None:
    deployed = _extension_suffixes(*_synth(tmp_path / "deploy", {}))
    local = _extension_suffixes(*_synth(tmp_path / "local", {LOCAL_ASSETS_CONTEXT: True}))
    local_suffix = subprocess.run([local_python(), "-I", "-c", "import sysconfig; print(sysconfig.get_config_var("
                                   "'EXT_SUFFIX'))"], capture_output=True, text=True, check=True).stdout.strip()
    assert deployed == {".cpython-313-aarch64-linux-gnu.so"}
    assert local == {local_suffix}


def test_the_wheels_may_need_at_most_amazon_linux_2023s_glibc() -> None:
    tags = manylinux_platforms("aarch64")
    assert tags[0] == "manylinux_2_34_aarch64" and "manylinux2014_aarch64" in tags
    assert not [t for t in tags if not t.endswith("_aarch64")] and "manylinux_2_35_aarch64" not in tags
    assert {"manylinux1_x86_64", "manylinux2010_x86_64", "manylinux_2_34_x86_64"} <= set(manylinux_platforms("x86_64"))


def test_the_target_is_part_of_the_asset_hash() -> None:
    hashes = {inputs_hash(SHARED_ASSET, target)
              for target in (runtime_target("arm64"), runtime_target("x86_64"), local_target())}
    assert len(hashes) == 3


def test_the_cdk_runs_on_the_projects_node() -> None:
    """`make venv` installs Node.js 24 into .venv/node and points jsii at it (JSII_NODE, set by a .pth file)."""
    node_dir = ROOT / ".venv" / "node"
    if not node_dir.exists():
        pytest.skip("make venv could not install Node.js from the npm registry: jsii runs on the node on PATH")
    node = os.environ.get("JSII_NODE", "")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert Path(node).is_relative_to(node_dir)
    assert int(version.lstrip("v").split(".")[0]) >= 24, version  # Node 20 reached its end of life in April 2026
