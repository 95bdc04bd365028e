"""Build the one Lambda asset that every function shares, without Docker.

The asset is `functions/` plus the pinned pure-Python/manylinux wheels of requirements/lambda.txt, installed for
the function runtime (CPython 3.11, x86_64). It is cached under .build/ by a hash of its inputs, so synth is
fast and the asset hash (hence the deployed code) only changes when the code or the pins change.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
LOCK_FILE = ROOT / "requirements" / "lambda.txt"
BUILD_DIR = ROOT / ".build" / "lambda"
PYTHON_VERSION = "3.11"
PLATFORM = "manylinux2014_x86_64"


def _source_files() -> list[Path]:
    files = [p for p in FUNCTIONS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return [*sorted(files), LOCK_FILE]


def inputs_hash() -> str:
    """Content hash of everything that goes into the asset (paths and bytes)."""
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_lambda_asset() -> tuple[Path, str]:
    """Return (directory, hash) of the shared Lambda asset, building it if the cache misses."""
    asset_hash = inputs_hash()
    target = BUILD_DIR / asset_hash[:16]
    if not _marker(target).exists():
        _remove_stale_builds()
        _build_into(target)
    return target, asset_hash


def _build_into(target: Path) -> None:
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
         "--disable-pip-version-check", "--target", str(staging), "--platform", PLATFORM,
         "--python-version", PYTHON_VERSION, "--implementation", "cp", "--only-binary=:all:",
         "-r", str(LOCK_FILE)],
        check=True, capture_output=True, text=True,
    )
    shutil.copytree(FUNCTIONS_DIR, staging, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for bin_dir in staging.glob("bin"):
        shutil.rmtree(bin_dir)  # console scripts of the wheels: not needed in Lambda
    # Lambda's code directory is read-only: ship bytecode so cold starts do not compile. Hash-based pyc files
    # keep the asset reproducible (no timestamps); this interpreter is CPython 3.11 like the runtime.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    str(staging)], check=True)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    _marker(target).write_text("ok\n")


def _marker(target: Path) -> Path:
    """Written last, beside (not inside) the asset, so a half-built directory is never reused."""
    return target.with_name(target.name + ".complete")


def _remove_stale_builds() -> None:
    if BUILD_DIR.exists():
        for old in BUILD_DIR.iterdir():
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
