"""One line per fact about the machine a run was measured on (printed above the table and kept in README)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def describe_machine() -> list[str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"machine: {_cpu_model()}, {cores} cores usable, {_memory_gib():.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        f"python: {sys.version.split()[0]} ({sys.executable}); load average at the end: {load}",
    ]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0
