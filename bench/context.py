"""What the sections share in one run: options, a scratch directory, the synthesized template, the Lambda bundle,
generated media and one deployed local pipeline (opened on first use, closed before the sections that start
servers of their own, so that nothing else competes for the two cores while they measure)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.bundling import LambdaAsset
    from local.pipeline import LocalPipeline

ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "FaceSwap"


@dataclass(frozen=True)
class Options:
    smoke: bool = False
    cdk_out: Path | None = None  # reuse a synthesized app instead of synthesizing (the smoke test does)
    time_scale: float = 1.0  # of Wait states and of the emulated vendor's processing time
    jobs: int = 20  # per path, for time to result
    in_flight: int = 3  # jobs running at once
    keep: bool = False  # keep the scratch directory


@dataclass
class BenchContext:
    options: Options
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="faceswap-bench-")))
    shared: dict[str, Any] = field(default_factory=dict)  # results one section leaves for another
    _cdk_out: Path | None = None
    _pipeline: LocalPipeline | None = None
    _media: tuple[Path, Path] | None = None

    @property
    def smoke(self) -> bool:
        return self.options.smoke

    def cdk_out(self) -> Path:
        """The synthesized app (cdk.json context), made once per run in the scratch directory."""
        if self._cdk_out is None:
            if self.options.cdk_out is not None:
                self._cdk_out = self.options.cdk_out
            else:
                from local.synth import synthesize

                self._cdk_out = synthesize(self.workdir / "cdk.out")
        return self._cdk_out

    def template(self) -> dict[str, Any]:
        return dict(json.loads((self.cdk_out() / f"{STACK_NAME}.template.json").read_text()))

    def bundle_dir(self, asset: LambdaAsset | None = None, python: str = sys.executable) -> Path:
        """A Lambda asset as built for a local run on `python` (this interpreter unless told: the sections that
        import the bundle beside the repo's own code), .build/<name>-local-cpXY/<hash>/ (built if the cache misses,
        as synth does); the shared one unless told."""
        from infra.bundling import SHARED_ASSET, build_lambda_asset, local_target

        return build_lambda_asset(asset or SHARED_ASSET, local_target(python))[0]

    def media(self) -> tuple[Path, Path]:
        """A short, small clip and the reference face: the vendor's work is modelled, not measured here."""
        if self._media is None:
            from local.media import make_face_image, make_video

            video = make_video(self.workdir / "bench-clip.mp4", seconds=1, size=(320, 180))
            face = make_face_image(self.workdir / "bench-face.png")
            self._media = (video, face)
        return self._media

    def pipeline(self) -> LocalPipeline:
        if self._pipeline is None:
            from local.emulator import EmulatorConfig
            from local.pipeline import LocalPipeline

            pipeline = LocalPipeline(self.cdk_out(), EmulatorConfig(), time_scale=self.options.time_scale)
            self._pipeline = pipeline.__enter__()
        return self._pipeline

    def close_pipeline(self) -> None:
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            pipeline.__exit__(None, None, None)

    def close(self) -> None:
        self.close_pipeline()
        if not self.options.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def child_env(self, *paths: Path) -> dict[str, str]:
        """Environment of a measuring child process: `paths` first on its import path, then the repo."""
        python_path = os.pathsep.join([*(str(p) for p in paths), str(ROOT)])
        return {**os.environ, "PYTHONPATH": python_path, "PYTHONDONTWRITEBYTECODE": "1"}

    def run_child(self, module: str, args: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
        """Run `python -m module args... --out FILE` and return the JSON it wrote; its stdout is discarded
        (handlers log to stdout as on Lambda)."""
        out = Path(tempfile.mkstemp(prefix="child-", suffix=".json", dir=self.workdir)[1])
        result = subprocess.run([sys.executable, "-m", module, *args, "--out", str(out)], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout,
                                check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{module} failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return dict(json.loads(out.read_text()))
