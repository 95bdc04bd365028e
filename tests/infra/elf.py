"""Just enough of an ELF reader (standard library only) to check a shared object against a Lambda runtime: its
class and machine (ELF header) and the symbol versions it needs from other libraries (the GNU version-needs
section, `.gnu.version_r`: `GLIBC_2.17` and the like)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"\x7fELF"
ELFCLASS64 = 2
LITTLE_ENDIAN = 1
EM_X86_64, EM_AARCH64 = 62, 183
SHT_GNU_VERNEED = 0x6FFFFFFE
_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr
_SECTION = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr
_VERNEED = struct.Struct("<HHIII")  # vn_version, vn_cnt, vn_file, vn_aux, vn_next
_VERNAUX = struct.Struct("<IHHII")  # vna_hash, vna_flags, vna_other, vna_name, vna_next


@dataclass(frozen=True)
class SharedObject:
    elf_class: int  # 1: 32-bit, 2: 64-bit
    machine: int  # e_machine
    needed_versions: dict[str, frozenset[str]]  # library file name -> symbol versions needed from it


def is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == MAGIC


def read(path: Path) -> SharedObject:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not an ELF file")
    elf_class, encoding = data[4], data[5]
    if elf_class != ELFCLASS64 or encoding != LITTLE_ENDIAN:  # what every Lambda CPU runs: report it as is
        return SharedObject(elf_class, int.from_bytes(data[18:20], "little" if encoding == 1 else "big"), {})
    header = _HEADER.unpack_from(data)
    machine, shoff, shentsize, shnum = header[2], header[6], header[11], header[12]
    sections = [_SECTION.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    needs: dict[str, frozenset[str]] = {}
    for section in sections:
        if section[1] == SHT_GNU_VERNEED:
            strings = sections[section[6]]  # sh_link: the string table of the names
            needs.update(_version_needs(data, section[4], section[7], strings[4]))
    return SharedObject(elf_class, machine, needs)


def _version_needs(data: bytes, offset: int, count: int, strtab: int) -> dict[str, frozenset[str]]:
    """sh_info entries of Elf64_Verneed, each with its chain of Elf64_Vernaux (one per version needed)."""
    needs: dict[str, frozenset[str]] = {}
    for _ in range(count):
        _, aux_count, file_name, aux, next_entry = _VERNEED.unpack_from(data, offset)
        versions, aux_offset = set(), offset + aux
        for _ in range(aux_count):
            _, _, _, name, next_aux = _VERNAUX.unpack_from(data, aux_offset)
            versions.add(_string(data, strtab + name))
            aux_offset += next_aux
        needs[_string(data, strtab + file_name)] = frozenset(versions)
        if not next_entry:
            break
        offset += next_entry
    return needs


def _string(data: bytes, offset: int) -> str:
    return data[offset:data.index(b"\0", offset)].decode()


def glibc_versions(shared: SharedObject) -> set[tuple[int, ...]]:
    """Every `GLIBC_x.y[.z]` version it needs, from any library (libc, libm, libpthread ... all carry them)."""
    return {tuple(int(part) for part in version.removeprefix("GLIBC_").split("."))
            for versions in shared.needed_versions.values() for version in versions
            if version.startswith("GLIBC_") and version[6:7].isdigit()}
