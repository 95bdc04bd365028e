"""A burst's picture: running tasks (and slot holders) against the cap, over time (PNG); for the simulator and for
the local burst (bench/burst.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.admission_world import World

Trace = Sequence[tuple[float, int]]  # (seconds since the burst, count), a step function

MAX_POINTS = 4000  # a step trace is sampled down to this many points (100,000 jobs make 400,000 changes)


def plot_running(world: World, name: str, path: Path) -> Path:
    return plot_against_cap({"slot holders (admitted, incl. uploading)": world.holder_trace,
                             "running at the vendor": world.running_trace}, world.scenario.cap,
                            f"{name}: {world.scenario.jobs:,} uploads at once", "simulated minutes since the burst",
                            path)


def plot_against_cap(traces: dict[str, Trace], cap: int, title: str, x_label: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4), dpi=110)
    for label, trace in traces.items():
        xs, ys = _sampled(sorted(trace, key=lambda p: p[0]))
        ax.step([x / 60 for x in xs], ys, where="post", label=label, linewidth=0.9)
    ax.axhline(cap, color="red", linestyle="--", linewidth=1, label=f"cap ({cap})")
    ax.set_xlabel(x_label)
    ax.set_ylabel("tasks")
    ax.set_ylim(0, cap * 1.15)
    ax.set_title(title)
    ax.legend(loc="lower center", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)  # a fresh checkout has no .build/bench yet
    fig.savefig(path)
    plt.close(fig)
    return path


def _sampled(trace: list[tuple[float, int]]) -> tuple[list[float], list[int]]:
    """The value of the step function at MAX_POINTS evenly spaced times (each time's latest change)."""
    if len(trace) <= MAX_POINTS:
        return [t for t, _ in trace], [v for _, v in trace]
    end = trace[-1][0]
    xs, ys, index = [], [], 0
    for step in range(MAX_POINTS + 1):
        when = end * step / MAX_POINTS
        while index + 1 < len(trace) and trace[index + 1][0] <= when:
            index += 1
        xs.append(when)
        ys.append(trace[index][1])
    return xs, ys
