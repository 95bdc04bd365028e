"""Build the Lambda assets without Docker: the shared one, and the face detector's own.

An asset is some handler folders of `functions/`, the core distribution (`functions/core`, built as a wheel) where
the asset needs it, and the pinned pure-Python/manylinux wheels of its lock file, installed for the function
runtime (CPython 3.11, x86_64). The shared asset (requirements/lambda.txt) carries the core and every handler but
the detector's; the detector (requirements/detector.txt) carries OpenCV and numpy, so they never weigh on the
other functions. Each is cached under .build/<name>/ by a hash of its inputs, so synth is fast and the asset
hash (hence the deployed code) only changes when its code or its pins change.
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
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
PYTHON_VERSION = "3.11"
# manylinux2014 = glibc 2.17: the python3.11 runtime runs on Amazon Linux 2 (glibc 2.26), so no newer tags.
PLATFORM = "manylinux2014_x86_64"
# The face detector's packages: its handler folder (the only code that imports OpenCV).
DETECTOR_PACKAGES = ("detect_faces",)
LOCK_NAME = ".lock"


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

    @property
    def build_dir(self) -> Path:
        return ROOT / ".build" / self.name

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


def inputs_hash(asset: LambdaAsset = SHARED_ASSET) -> str:
    """Content hash of everything that goes into the asset (paths and bytes, and what is pruned)."""
    digest = hashlib.sha256(repr((asset.prune, asset.keep)).encode())
    for path in _source_files(asset):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_lambda_asset(asset: LambdaAsset = SHARED_ASSET) -> tuple[Path, str]:
    """Return (directory, hash) of the asset, building it if the cache misses."""
    asset_hash = inputs_hash(asset)
    target = asset.build_dir / asset_hash[:16]
    if _marker(target).exists():
        return target, asset_hash
    asset.build_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(asset.build_dir / LOCK_NAME):  # concurrent synths (tests, bench, make) build it once
        if not _marker(target).exists():
            _remove_stale_builds(asset.build_dir)
            _build_into(asset, target)
    return target, asset_hash


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_into(asset: LambdaAsset, target: Path) -> None:
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    wheels = [str(_core_wheel(staging.with_name(staging.name + ".wheel")))] if asset.with_core else []
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
         "--disable-pip-version-check", "--target", str(staging), "--platform", PLATFORM,
         "--python-version", PYTHON_VERSION, "--implementation", "cp", "--only-binary=:all:",
         "-r", str(asset.lock_file), *wheels],
        check=True, capture_output=True, text=True,
    )
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
    # keep the asset reproducible (no timestamps); this interpreter is CPython 3.11 like the runtime.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    str(staging)], check=True)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    _marker(target).write_text("ok\n")


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


def _marker(target: Path) -> Path:
    """Written last, beside (not inside) the asset, so a half-built directory is never reused."""
    return target.with_name(target.name + ".complete")


def _remove_stale_builds(build_dir: Path) -> None:
    if build_dir.exists():
        for old in build_dir.iterdir():
            if old.name == LOCK_NAME:
                continue
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
