"""Build the Lambda assets without Docker: the shared one, and the face detector's own.

An asset is some handler folders of `functions/`, the core distribution (`functions/core`, built as a wheel) where
the asset needs it, and the pinned pure-Python/manylinux wheels of its lock file, installed for a `BuildTarget`:
the function runtime (CPython 3.13 on Amazon Linux 2023, for the configured CPU) for a deployment, or the
interpreter the local stack runs the functions on (`local_python`) for a local one. The shared asset
(requirements/lambda.txt) carries the core and every handler but the detector's; the detector
(requirements/detector.txt) carries OpenCV and numpy, so they never weigh on the other functions. Each is cached
under .build/<name>-<target>/ by a hash of its inputs (the target included), so synth is fast and the asset hash
(hence the deployed code) only changes when its code, its pins or its target change.
"""

from __future__ import annotations

import fcntl
import fnmatch
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
CORE_DIR = FUNCTIONS_DIR / "core"  # the core distribution (faceswap-core), not a handler folder
REQUIREMENTS_DIR = ROOT / "requirements"
# The function runtime, python3.13, runs on Amazon Linux 2023: glibc 2.34, so manylinux_2_34 is the newest tag it loads.
RUNTIME_PYTHON = "3.13"
RUNTIME_GLIBC = (2, 34)
CPUS = {"arm64": "aarch64", "x86_64": "x86_64"}  # Lambda's architecture -> the CPU in wheel tags
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}  # PEP 599/571/513 aliases
# The local stack's interpreter: `make venv` makes this venv from a CPython 3.13 where one is installed.
RUNTIME_VENV = ROOT / ".venv-runtime"
LOCAL_PYTHON_ENV = "FACESWAP_LOCAL_PYTHON"  # overrides it (a path to a python)
# The face detector's packages: its handler folder (the only code that imports OpenCV).
DETECTOR_PACKAGES = ("detect_faces",)
LOCK_NAME = ".lock"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildTarget:
    """What an asset is built for: the CPython version (its wheels' ABI, its bytecode) and the platform."""

    name: str  # the build folder's suffix: .build/<asset>-<name>/
    python_version: str  # "3.13"
    platforms: tuple[str, ...] = ()  # pip --platform tags; empty: the platform of `interpreter` (a local build)
    interpreter: str | None = None  # compiles the bytecode (a local build installs with it); None: no bytecode

    def key(self) -> str:
        """What enters the asset hash: what the build depends on, not where the interpreter lives."""
        platform = " ".join(self.platforms) or interpreter_facts(str(self.interpreter))[1]
        return f"cp{self.python_version} {platform} bytecode={self.interpreter is not None}"


def manylinux_platforms(cpu: str, glibc: tuple[int, int] = RUNTIME_GLIBC) -> tuple[str, ...]:
    """The manylinux tags of wheels that load on a glibc `glibc` Linux with this CPU, newest first (pip does not
    widen a manylinux_2_x --platform to older tags itself)."""
    oldest = 17 if cpu == "aarch64" else 5  # aarch64 wheels start at manylinux2014
    tags: list[str] = []
    for minor in range(glibc[1], oldest - 1, -1):
        tags.append(f"manylinux_2_{minor}_{cpu}")
        if minor in _LEGACY_MANYLINUX:
            tags.append(f"{_LEGACY_MANYLINUX[minor]}_{cpu}")
    return tuple(tags)


def runtime_target(architecture: str) -> BuildTarget:
    """The Lambda runtime's: wheels for python3.13 on this CPU, bytecode compiled by a local CPython 3.13 if any."""
    compiler: str | None = local_python()
    if interpreter_facts(str(compiler))[0] != RUNTIME_PYTHON:
        log.warning("no CPython %s here: the Lambda asset ships without bytecode (cold starts compile it)",
                    RUNTIME_PYTHON)
        compiler = None
    return BuildTarget(architecture, RUNTIME_PYTHON, manylinux_platforms(CPUS[architecture]), compiler)


def local_target(python: str | None = None) -> BuildTarget:
    """For a local run of the same code: wheels for this machine and `python` (default: `local_python()`)."""
    python = python or local_python()
    version = interpreter_facts(python)[0]
    return BuildTarget(f"local-cp{version.replace('.', '')}", version, (), python)


def local_python() -> str:
    """The interpreter the local stack runs the functions on: the runtime's CPython in .venv-runtime where
    `make venv` could make it, else this one (with wheels for its own version)."""
    override = os.environ.get(LOCAL_PYTHON_ENV)
    if override:
        return override
    runtime = RUNTIME_VENV / "bin" / "python"
    return str(runtime) if runtime.exists() else sys.executable


@functools.cache
def interpreter_facts(python: str) -> tuple[str, str]:
    """(major.minor, sysconfig platform) of an interpreter."""
    done = subprocess.run([python, "-I", "-c", "import sys, sysconfig; "
                           "print(f'{sys.version_info[0]}.{sys.version_info[1]}', sysconfig.get_platform())"],
                          check=True, capture_output=True, text=True, timeout=60)
    version, platform = done.stdout.split()
    return version, platform


@dataclass(frozen=True)
class LambdaAsset:
    """One code bundle: which packages of functions/ it holds, which wheels, and what it leaves out of them."""

    name: str
    lock_file: Path
    packages: tuple[str, ...] = ()  # handler folders of functions/; empty: all but `excluded`
    excluded: tuple[str, ...] = ()
    with_core: bool = True  # install the core distribution (functions/core)
    prune: tuple[str, ...] = ()  # glob patterns (relative paths) removed from the installed wheels...
    keep: tuple[str, ...] = ()  # ...except these

    def build_dir(self, target: BuildTarget) -> Path:
        return ROOT / ".build" / f"{self.name}-{target.name}"

    def holds(self, package: str) -> bool:
        """Whether a folder of functions/ is one of this asset's handler folders."""
        if package == CORE_DIR.name:
            return False
        return package in self.packages if self.packages else package not in self.excluded


SHARED_ASSET = LambdaAsset("lambda", REQUIREMENTS_DIR / "lambda.txt", excluded=DETECTOR_PACKAGES)
DETECTOR_ASSET = LambdaAsset(
    "detector", REQUIREMENTS_DIR / "detector.txt", packages=DETECTOR_PACKAGES, with_core=False,
    # Lambda allows 250 MB unzipped: OpenCV and numpy alone are ~220 MB, so their test suites, type stubs and the
    # cascades we do not use stay out (only the frontal-face cascade is loaded).
    prune=("*/tests", "*.pyi", "cv2/data/*.xml"),
    keep=("cv2/data/haarcascade_frontalface_default.xml",),
)


def asset_of(package: str) -> LambdaAsset:
    """The asset that carries a top-level package of functions/ (a handler module's first part)."""
    return DETECTOR_ASSET if DETECTOR_ASSET.holds(package) else SHARED_ASSET


def _source_files(asset: LambdaAsset) -> list[Path]:
    def wanted(path: Path) -> bool:
        top = path.relative_to(FUNCTIONS_DIR).parts[0]
        return asset.holds(top) or (asset.with_core and top == CORE_DIR.name)

    files = [p for p in FUNCTIONS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts and wanted(p)]
    return [*sorted(files), asset.lock_file]


def inputs_hash(asset: LambdaAsset, target: BuildTarget) -> str:
    """Content hash of everything that goes into the asset (paths and bytes, what is pruned, the target)."""
    digest = hashlib.sha256(repr((asset.prune, asset.keep, target.key())).encode())
    for path in _source_files(asset):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_lambda_asset(asset: LambdaAsset, target: BuildTarget) -> tuple[Path, str]:
    """Return (directory, hash) of the asset built for `target`, building it if the cache misses."""
    asset_hash = inputs_hash(asset, target)
    build_dir = asset.build_dir(target)
    built = build_dir / asset_hash[:16]
    if _marker(built).exists():
        return built, asset_hash
    build_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(build_dir / LOCK_NAME):  # concurrent synths (tests, bench, make) build it once
        if not _marker(built).exists():
            _remove_stale_builds(build_dir)
            _build_into(asset, target, built)
    return built, asset_hash


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_into(asset: LambdaAsset, target: BuildTarget, built: Path) -> None:
    staging = built.with_name(built.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    wheels = [str(_core_wheel(staging.with_name(staging.name + ".wheel")))] if asset.with_core else []
    subprocess.run([*_pip_install(target), "--quiet", "--no-deps", "--no-compile", "--disable-pip-version-check",
                    "--only-binary=:all:", "--target", str(staging), "-r", str(asset.lock_file), *wheels],
                   check=True, capture_output=True, text=True)
    shutil.rmtree(staging.with_name(staging.name + ".wheel"), ignore_errors=True)
    _prune(staging, asset)
    for entry in sorted(p for p in FUNCTIONS_DIR.iterdir() if asset.holds(p.name) and p.name != "__pycache__"):
        if entry.is_dir():
            shutil.copytree(entry, staging / entry.name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(entry, staging / entry.name)
    for bin_dir in staging.glob("bin"):
        shutil.rmtree(bin_dir)  # console scripts of the wheels: not needed in Lambda
    # Lambda's code directory is read-only: ship bytecode so cold starts do not compile. Hash-based pyc files
    # keep the asset reproducible (no timestamps); the target's own CPython version compiles them.
    if target.interpreter is not None:
        subprocess.run([target.interpreter, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
                        "unchecked-hash", str(staging)], check=True)
    shutil.rmtree(built, ignore_errors=True)
    staging.rename(built)
    _marker(built).write_text("ok\n")


def _pip_install(target: BuildTarget) -> list[str]:
    """A local build installs with the target interpreter's own pip (its platform and ABI); a runtime build with
    this one's, told the runtime's platforms, CPython version and implementation."""
    if not target.platforms:
        return [str(target.interpreter), "-m", "pip", "install"]
    platforms = [arg for tag in target.platforms for arg in ("--platform", tag)]
    return [sys.executable, "-m", "pip", "install", *platforms, "--python-version", target.python_version,
            "--implementation", "cp"]


def _core_wheel(wheel_dir: Path) -> Path:
    """The core distribution as a wheel: the asset installs it like any pinned dependency (its own dependencies
    are pinned in the lock file)."""
    shutil.rmtree(wheel_dir, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "--wheel-dir", str(wheel_dir), str(CORE_DIR)], check=True, capture_output=True, text=True)
    (wheel,) = wheel_dir.glob("faceswap_core-*.whl")
    return wheel


def _prune(staging: Path, asset: LambdaAsset) -> None:
    for path in sorted(staging.rglob("*"), reverse=True):  # deepest first: a pruned folder goes as a whole
        relative = path.relative_to(staging).as_posix()
        if not path.exists() or _matches(relative, asset.keep) or not _matches(relative, asset.prune):
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


def _marker(built: Path) -> Path:
    """Written last, beside (not inside) the asset, so a half-built directory is never reused."""
    return built.with_name(built.name + ".complete")


def _remove_stale_builds(build_dir: Path) -> None:
    if build_dir.exists():
        for old in build_dir.iterdir():
            if old.name == LOCK_NAME:
                continue
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
