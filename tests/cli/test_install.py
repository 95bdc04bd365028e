"""The CLI as a user installs it: `pip install <repository>` into a fresh venv, run from outside the checkout.

The repository's root distribution (the CLI) depends on the core distribution (functions/core) by a path relative
to itself, so one `pip install` brings both; nothing reaches into the checkout at run time.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("fresh-venv")
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=600, cwd=env_dir)
    return env_dir


def test_both_distributions_are_installed_from_one_pip_install(installed: Path) -> None:
    listing = _run(installed, "-m", "pip", "list", "--disable-pip-version-check").stdout
    assert "faceswap-core" in listing and "faceswap-pipeline" in listing


def test_the_cli_imports_the_core_from_site_packages_not_the_checkout(installed: Path) -> None:
    where = _run(installed, "-c", "import faceswap, faceswap_cli; print(faceswap.__file__, faceswap_cli.__file__)")
    for path in where.stdout.split():
        assert Path(path).is_relative_to(installed) and not Path(path).is_relative_to(ROOT)


def test_the_cli_runs_and_reports_a_missing_local_stack(installed: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(installed / "bin" / "faceswap"), "--local", "--state-file",
                             str(tmp_path / "none.json"), "list"], capture_output=True, text=True, cwd=tmp_path,
                            timeout=60)
    assert result.returncode == 3, result.stderr  # 3: no stack; the message says how to start one
    assert "make local-up" in result.stderr


def _run(env_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(env_dir / "bin" / "python"), *args], check=True, capture_output=True, text=True,
                          timeout=60, cwd=env_dir, env={"PATH": "/usr/bin:/bin"})
