"""The simulator's picture: the vendor's running tasks and our slot holders against the cap, over time (PNG)."""

from __future__ import annotations

from pathlib import Path

from bench.admission_world import World

MAX_POINTS = 4000  # a step trace is sampled down to this many points (100,000 jobs make 400,000 changes)


def plot_running(world: World, name: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    cap = world.scenario.cap
    fig, ax = plt.subplots(figsize=(10, 4), dpi=110)
    for trace, label, style in ((world.holder_trace, "slot holders (admitted, incl. uploading)", "-"),
                                (world.running_trace, "running at the vendor", "-")):
        xs, ys = _sampled(sorted(trace, key=lambda p: p[0]))
        ax.step([x / 60 for x in xs], ys, where="post", label=label, linestyle=style, linewidth=0.9)
    ax.axhline(cap, color="red", linestyle="--", linewidth=1, label=f"cap ({cap})")
    ax.set_xlabel("simulated minutes since the burst")
    ax.set_ylabel("tasks")
    ax.set_ylim(0, cap * 1.15)
    ax.set_title(f"{name}: {world.scenario.jobs:,} uploads at once")
    ax.legend(loc="lower center", fontsize=8)
    fig.tight_layout()
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
