"""The face detector's own Lambda asset (OpenCV, numpy) and its switch: the other functions' asset does not carry
OpenCV, the detector's fits Lambda's size limit (as deployed: for arm64), the local stack's workers load OpenCV
from its local build, and with faceswap:face_precheck=false there is no detector, no grant and no pre-check."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.bundling import (
    DETECTOR_ASSET,
    SHARED_ASSET,
    asset_of,
    build_lambda_asset,
    local_python,
    local_target,
    runtime_target,
)
from infra.config import ConfigError, PipelineConfig
from infra.pipeline import FaceSwapPipeline
from local.aws.lambda_pool import WORKER_SCRIPT
from tests.conftest import Synthesized

LAMBDA_UNZIPPED_LIMIT = 262_144_000  # "250 MB", function code and layers together


def _functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    template = json.loads(synthesized.template_path.read_text())
    return {lid: r["Properties"] for lid, r in template["Resources"].items()
            if str(r["Properties"].get("Handler", "")).endswith(".app.lambda_handler")}


def test_the_detector_has_an_asset_of_its_own(synthesized: Synthesized) -> None:
    keys = {lid: props["Code"]["S3Key"] for lid, props in _functions(synthesized).items()}
    detector = [lid for lid in keys if lid.startswith("PipelineIngestDetectFaces")]
    assert len(detector) == 1
    others = {key for lid, key in keys.items() if lid not in detector}
    assert len(others) == 1 and keys[detector[0]] not in others  # one shared asset, one for the detector
    assert asset_of("detect_faces") is DETECTOR_ASSET and asset_of("start_job") is SHARED_ASSET


def test_opencv_stays_out_of_the_shared_asset_and_the_core_out_of_the_detectors() -> None:
    shared, _ = build_lambda_asset(SHARED_ASSET, runtime_target("arm64"))
    detector, _ = build_lambda_asset(DETECTOR_ASSET, runtime_target("arm64"))
    shared_top = {p.name for p in shared.iterdir()}
    detector_top = {p.name for p in detector.iterdir()}
    assert not {"cv2", "numpy", "detect_faces"} & shared_top
    assert {"cv2", "numpy", "detect_faces", "aws_lambda_powertools"} <= detector_top
    assert "faceswap" not in detector_top and "pydantic" not in detector_top
    # Pruned: test suites, type stubs and every cascade but the one the detector loads.
    assert [p.name for p in (detector / "cv2" / "data").glob("*.xml")] == ["haarcascade_frontalface_default.xml"]
    assert not list(detector.glob("numpy/**/tests"))


def test_the_detector_asset_fits_lambdas_unzipped_limit() -> None:
    detector, _ = build_lambda_asset(DETECTOR_ASSET, runtime_target("arm64"))
    size = sum(p.stat().st_size for p in detector.rglob("*") if p.is_file())
    assert size < LAMBDA_UNZIPPED_LIMIT * 0.9, f"{size / 1e6:.0f} MB"  # headroom for a newer OpenCV


def test_the_local_workers_load_opencv_from_the_detector_asset_not_the_dev_environment() -> None:
    """The dev environment has OpenCV and numpy too (the emulator uses them): the worker's import path (its own
    code, run on the workers' interpreter) must find the local build's copies first."""
    detector, _ = build_lambda_asset(DETECTOR_ASSET, local_target())
    code = ("import runpy, sys; runpy.run_path(sys.argv[1], run_name='worker')['_isolate_import_path'](sys.argv[2]); "
            "import cv2, numpy; print(cv2.__file__); print(numpy.__file__)")
    done = subprocess.run([local_python(), "-I", "-c", code, WORKER_SCRIPT, str(detector)], capture_output=True,
                          text=True, check=True, cwd=detector, timeout=60)
    cv2_file, numpy_file = done.stdout.split()
    assert Path(cv2_file).is_relative_to(detector) and Path(numpy_file).is_relative_to(detector), done.stdout


# --- the switches ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("context", "message"), [
    ({"faceswap:face_precheck": "maybe"}, "face_precheck must be true or false"),
    ({"faceswap:face_precheck_samples": 0}, "face_precheck_samples must be between 1 and 32"),
    ({"faceswap:face_precheck_samples": 33}, "face_precheck_samples must be between 1 and 32"),
    ({"faceswap:face_precheck_samples": "many"}, "face_precheck_samples must be int"),
])
def test_bad_face_precheck_settings_stop_the_synth(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PipelineConfig.from_context(cdk.App(context=context).node)


def test_face_precheck_settings_come_from_context() -> None:
    config = PipelineConfig.from_context(cdk.App(context={"faceswap:face_precheck": "false",
                                                          "faceswap:face_precheck_samples": "12"}).node)
    assert (config.face_precheck, config.face_precheck_samples) == (False, 12)
    assert (PipelineConfig().face_precheck, PipelineConfig().face_precheck_samples) == (True, 8)


def test_the_start_function_is_told_the_detector_and_the_samples(synthesized: Synthesized) -> None:
    start = next(p for lid, p in _functions(synthesized).items() if lid.startswith("PipelineIngestStartJob"))
    detector = next(lid for lid in _functions(synthesized) if lid.startswith("PipelineIngestDetectFaces"))
    env = start["Environment"]["Variables"]
    assert env["FACE_DETECTOR_FUNCTION"] == {"Ref": detector}
    assert (env["FACE_PRECHECK_SAMPLES"], env["FACE_DETECTOR_TIMEOUT_SECONDS"]) == ("8", "60")


def test_with_the_precheck_off_there_is_no_detector_and_no_grant(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "NoPrecheck")
    pipeline = FaceSwapPipeline(stack, "Pipeline", PipelineConfig(face_precheck=False))
    template = Template.from_stack(stack).to_json()

    assert pipeline.face_detector is None
    assert "detect_faces" not in json.dumps(template) and "FACE_DETECTOR_FUNCTION" not in json.dumps(template)
    start_role = stack.resolve(pipeline.start_job.role.role_name)  # type: ignore[union-attr]
    start_actions = [action for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
                     and start_role in r["Properties"]["Roles"]
                     for s in r["Properties"]["PolicyDocument"]["Statement"] for action in _as_list(s["Action"])]
    assert start_actions and not [a for a in start_actions if a.startswith("lambda:")]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
