"""The deployable Lambda assets hold only binaries that the python3.13 runtime on arm64 can load.

Built for the default architecture exactly as `make synth` builds them (cached under .build/<asset>-arm64/), then
opened: every shared object (`*.so*`) must be a 64-bit ELF for AArch64 that needs no glibc symbol version newer
than Amazon Linux 2023's 2.34; every wheel with compiled code must be tagged for CPython 3.13 (or the stable ABI)
and a manylinux glibc up to 2.34 on that CPU; every shared object must come from such a wheel (its RECORD) and
carry the extension suffix of CPython 3.13 on that CPU; the bytecode must be CPython 3.13's. The runtime's facts
are written here, not taken from infra.bundling, so that a wrong build setting cannot vouch for itself.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.bundling import DETECTOR_ASSET, SHARED_ASSET, LambdaAsset, build_lambda_asset, runtime_target
from tests.infra import elf

# python3.13 on arm64: Amazon Linux 2023, glibc 2.34, AArch64.
PYTHON_TAG, CPU, MACHINE, GLIBC = "cp313", "aarch64", elf.EM_AARCH64, (2, 34)
EXTENSION_SUFFIX = re.compile(r"\.(cpython-(?P<version>\d+)-(?P<triplet>[\w-]+)|abi3)\.so$")
MANYLINUX = re.compile(r"manylinux_(?P<major>\d+)_(?P<minor>\d+)_(?P<cpu>\w+)")
LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


@dataclass(frozen=True)
class Wheel:
    name: str
    tags: tuple[str, ...]  # "cp313-cp313-manylinux_2_17_aarch64", ...
    files: frozenset[str]  # paths relative to the asset, from RECORD


@pytest.fixture(scope="module", params=[SHARED_ASSET, DETECTOR_ASSET], ids=lambda a: a.name)
def asset(request: pytest.FixtureRequest) -> Path:
    lambda_asset: LambdaAsset = request.param
    return build_lambda_asset(lambda_asset, runtime_target("arm64"))[0]


def shared_objects(asset: Path) -> Iterator[Path]:
    return (p for p in sorted(asset.rglob("*.so*")) if p.is_file() and elf.is_elf(p))


def wheels(asset: Path) -> list[Wheel]:
    found = []
    for info in sorted(asset.glob("*.dist-info")):
        tags = tuple(line.split(":", 1)[1].strip() for line in (info / "WHEEL").read_text().splitlines()
                     if line.startswith("Tag:"))
        files = frozenset(line.split(",", 1)[0] for line in (info / "RECORD").read_text().splitlines() if line)
        found.append(Wheel(info.name, tags, files))
    return found


def platform_fits(platform: str) -> bool:
    if platform == "any":
        return True
    for legacy, glibc in LEGACY_MANYLINUX.items():
        platform = platform.replace(f"{legacy}_", f"manylinux_{glibc[0]}_{glibc[1]}_")
    match = MANYLINUX.fullmatch(platform)
    return match is not None and match["cpu"] == CPU and (int(match["major"]), int(match["minor"])) <= GLIBC


def abi_fits(python: str, abi: str) -> bool:
    if abi == "abi3":  # the stable ABI of CPython 3.x from the version named on
        return python.startswith("cp3") and int(python[3:]) <= int(PYTHON_TAG[3:])
    return (python, abi) in ((PYTHON_TAG, PYTHON_TAG), ("py3", "none"), ("py2.py3", "none"), ("py2", "none"))


def tag_fits(tag: str) -> bool:
    python, abi, platform = tag.split("-")
    return abi_fits(python, abi) and platform_fits(platform)


def test_every_shared_object_is_a_64_bit_elf_for_the_functions_cpu(asset: Path) -> None:
    wrong = {str(p.relative_to(asset)): (shared.elf_class, shared.machine)
             for p in shared_objects(asset) if (shared := elf.read(p)).elf_class != elf.ELFCLASS64
             or shared.machine != MACHINE}
    assert list(shared_objects(asset)), "no shared object found: the check would pass vacuously"
    assert not wrong, f"not 64-bit AArch64 (class, e_machine): {wrong}"


def test_no_shared_object_needs_a_glibc_newer_than_amazon_linux_2023s(asset: Path) -> None:
    needs = {str(p.relative_to(asset)): max(elf.glibc_versions(elf.read(p)), default=()) for p in shared_objects(asset)}
    assert any(needs.values()), "no object needs any GLIBC_ version: the reader finds nothing"
    too_new = {name: ".".join(map(str, version)) for name, version in needs.items() if version[:2] > GLIBC}
    assert not too_new, f"need a glibc newer than 2.34: {too_new}"


def test_every_wheel_is_tagged_for_cpython_313_and_manylinux_up_to_2_34_on_the_cpu(asset: Path) -> None:
    found = wheels(asset)
    unfit = {w.name: w.tags for w in found if not any(tag_fits(tag) for tag in w.tags)}
    assert found and not unfit, f"wheels not for python3.13 on {CPU} with glibc <= 2.34: {unfit}"


def test_every_shared_object_comes_from_a_checked_wheel_and_carries_the_runtimes_suffix(asset: Path) -> None:
    owners = {path: w.name for w in wheels(asset) for path in w.files}
    wrong_suffix, orphans = [], []
    for path in shared_objects(asset):
        relative = path.relative_to(asset).as_posix()
        if relative not in owners:
            orphans.append(relative)
        suffix = EXTENSION_SUFFIX.search(path.name)
        if suffix and suffix[1] != "abi3" and (suffix["version"], suffix["triplet"]) != ("313", f"{CPU}-linux-gnu"):
            wrong_suffix.append(relative)
    assert not orphans, f"shared objects that no wheel's RECORD lists (their tags are unchecked): {orphans}"
    assert not wrong_suffix, f"extension modules of another CPython or CPU: {wrong_suffix}"


def test_the_bytecode_is_cpython_313s(asset: Path) -> None:
    compiled = list(asset.rglob("*.pyc"))
    if not compiled and not runtime_target("arm64").interpreter:
        pytest.skip("no CPython 3.13 on this machine: the asset ships without bytecode")
    others = sorted({p.name.split(".")[-2] for p in compiled} - {"cpython-313"})
    assert compiled and not others, f"bytecode of other interpreters: {others}"


@pytest.mark.parametrize(("tag", "fits"), [
    ("cp313-cp313-manylinux_2_34_aarch64", True), ("cp313-cp313-manylinux2014_aarch64", True),
    ("cp37-abi3-manylinux_2_28_aarch64", True), ("py3-none-any", True),
    ("cp313-cp313-manylinux_2_35_aarch64", False),  # newer glibc than Amazon Linux 2023's
    ("cp313-cp313-manylinux_2_17_x86_64", False), ("cp311-cp311-manylinux_2_17_aarch64", False),
    ("cp314-abi3-manylinux_2_17_aarch64", False), ("cp313-cp313t-manylinux_2_17_aarch64", False),
    ("cp313-cp313-musllinux_1_2_aarch64", False), ("cp313-cp313-linux_aarch64", False),
])
def test_the_tag_rules(tag: str, fits: bool) -> None:
    assert tag_fits(tag) is fits


def test_the_elf_reader_reads_this_interpreter() -> None:
    """The reader against a binary of known facts: this machine's own CPython (x86-64 or AArch64, glibc)."""
    shared = elf.read(Path(sys.executable).resolve())
    assert shared.elf_class == elf.ELFCLASS64 and shared.machine in (elf.EM_X86_64, elf.EM_AARCH64)
    assert "libc.so.6" in shared.needed_versions and elf.glibc_versions(shared)
