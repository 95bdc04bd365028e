"""`python -m bench.admission_sim`: faceswap.admission's own code on a simulated clock, for bursts of 200, 10,000
and 100,000 uploads (bench/admission_world.py is the simulated world; bench/README.md says what is modelled).

Reports, per scenario: the vendor's utilisation of its cap while jobs were waiting (target >= 0.9), each job's
time queued, the makespan as a ratio of the ideal (jobs / cap x mean processing time, target <= 1.2), AWS requests
per job, vendor 429s; and writes a plot of running tasks and slot holders against the cap over time.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from bench.admission_world import Scenario, World
from bench.context import BenchContext
from bench.report import SectionResult, Target
from bench.stats import percentile
from faceswap.admission import AdmissionSettings

UTILISATION_TARGET, MAKESPAN_TARGET = 0.9, 1.2
SCENARIOS = {
    # The shape of the local burst bench: the default limits.
    "burst-200": Scenario(jobs=200, cap=10),
    # Larger accounts: a vendor cap and create rate for the size of the burst (10,000 end within the default
    # max_queue_wait of 6 h; 100,000 need ~7 h at 250 slots, so they are allowed 12 h). 250 slots keep the item's
    # writes (~18 KB each) well under DynamoDB's 1,000 WCU/s per partition; 500 (35 KB) reach it.
    "burst-10k": Scenario(jobs=10_000, cap=100, creates_per_second=5, vendor_create_limit=10, concurrency=20),
    "burst-100k": Scenario(jobs=100_000, cap=250, creates_per_second=10, vendor_create_limit=20, concurrency=40,
                           max_queue_wait_seconds=12 * 3600),
    # The vendor answers 429 to everything for 90 s (the test): the breaker holds every start back.
    "outage-200": Scenario(jobs=200, cap=10, outage=(300.0, 390.0)),
    # A balance for ~150 of 200 jobs, credit_wait 0: the rest end at once with credit_insufficient, 0 units spent.
    "credit-200": Scenario(jobs=200, cap=10, credit_units=600),
}
DEFAULT_SCENARIOS = ("burst-200", "burst-10k", "burst-100k", "outage-200", "credit-200")


@dataclass(frozen=True)
class Figures:
    name: str
    scenario: Scenario
    seconds: float  # wall time of the simulation
    utilisation: float  # running / cap from the first to the last create (jobs were waiting all along)
    utilisation_overall: float  # from the first create to the last task end (includes the draining tail)
    makespan: float
    ideal: float
    queued: tuple[float, float, float]  # p50, p95, max seconds from upload to admission
    per_job: dict[str, float]
    outcomes: dict[str, int]
    vendor_429: int
    conflicts: int
    peak_wcu_per_second: int
    max_item_bytes: int
    plot: Path | None = None

    @property
    def makespan_ratio(self) -> float:
        return self.makespan / self.ideal


def settings_for(scenario: Scenario) -> AdmissionSettings:
    return AdmissionSettings(max_tasks_in_flight=scenario.cap, max_creates_per_second=scenario.creates_per_second,
                             create_burst=max(2.0, scenario.creates_per_second),
                             max_queue_wait_seconds=scenario.max_queue_wait_seconds,
                             credit_wait_seconds=0 if scenario.credit_units is not None else 3600)


def simulate(name: str, scenario: Scenario, plot_dir: Path | None = None) -> Figures:
    started = time.monotonic()
    world = World(scenario, settings_for(scenario)).run()
    seconds = time.monotonic() - started
    done = [j for j in world.jobs if j.outcome == "succeeded"]
    creates = sorted(j.created_at for j in done if j.created_at is not None)
    ends = [j.created_at + j.processing for j in done if j.created_at is not None]
    cap = scenario.cap
    mean_processing = sum(j.processing for j in done) / max(len(done), 1)
    queued = [j.admitted_at for j in done if j.admitted_at is not None] or [0.0]
    figures = Figures(
        name, scenario, seconds,
        utilisation=_busy(world.running_trace, creates[0], creates[-1]) / cap if creates else 0.0,
        utilisation_overall=_busy(world.running_trace, creates[0], max(ends)) / cap if creates else 0.0,
        makespan=max((j.ended_at or 0.0) for j in done) if done else 0.0,
        ideal=len(done) / cap * mean_processing or 1.0,
        queued=(percentile(queued, 50), percentile(queued, 95), max(queued)),
        per_job=_per_job(world, scenario.jobs),
        outcomes=dict(sorted(_outcomes(world).items())),
        vendor_429=world.counts["vendor_429"], conflicts=world.item.counts["conflict"],
        peak_wcu_per_second=max(world.item.wcu_by_second.values(), default=0), max_item_bytes=world.item.max_bytes)
    if plot_dir is not None:
        from bench.admission_plot import plot_running

        figures = replace(figures, plot=plot_running(world, name, plot_dir / f"admission-{name}.png"))
    return figures


def _busy(trace: list[tuple[float, int]], start: float, end: float) -> float:
    """Mean of a step function (value from each point until the next) over [start, end]."""
    if end <= start:
        return 0.0
    points = sorted(trace, key=lambda p: p[0])
    area, value, last = 0.0, 0, start
    for when, new in points:
        if when > start:
            area += value * (min(when, end) - last)
            last = min(when, end)
        if when >= end:
            break
        value = new
    area += value * (end - last)
    return area / (end - start)


def _per_job(world: World, jobs: int) -> dict[str, float]:
    item = world.item.counts
    writes = sum(item[k] for k in ("write", "ticket", "leave", "created", "release", "reset"))
    raw = {"dynamodb_reads": item["read"], "dynamodb_writes": writes, "dynamodb_wcu": item["wcu"],
           "dynamodb_rcu": item["rcu"], "sqs_sends": world.counts["sqs_send"],
           "sqs_receives": world.counts["sqs_receive"], "sqs_deletes": world.counts["sqs_delete"],
           "lambda_invocations": world.counts["lambda_invocation"], "vendor_credit_calls": world.vendor.calls["credit"],
           "deliveries": sum(j.deliveries for j in world.jobs)}
    return {key: value / jobs for key, value in raw.items()}


def _outcomes(world: World) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in world.jobs:
        counts[job.outcome or "unfinished"] = counts.get(job.outcome or "unfinished", 0) + 1
    return counts


# --- reporting ----------------------------------------------------------------------------------------------
def print_figures(f: Figures, out: TextIO | None = None) -> None:
    s = f.scenario
    judged = f.name.startswith("burst")  # an outage or a short balance costs time by design: shown, not judged
    lines = [
        f"== {f.name}: {s.jobs:,} uploads at once, cap {s.cap} running tasks, {s.creates_per_second:g} creates/s "
        f"(vendor's limit {s.vendor_create_limit}/s), start concurrency {s.concurrency}"
        + (f", vendor 429s {s.outage[0]:.0f}-{s.outage[1]:.0f} s" if s.outage else "")
        + (f", balance {s.credit_units} units" if s.credit_units is not None else "")
        + f" (simulated in {f.seconds:.1f} s)",
        f"   utilisation of the cap while jobs waited  {f.utilisation:.3f}   target >= {UTILISATION_TARGET}  "
        f"{_verdict(f.utilisation >= UTILISATION_TARGET, judged)}",
        f"   makespan / ideal                          {f.makespan_ratio:.3f}   target <= {MAKESPAN_TARGET}  "
        f"{_verdict(f.makespan_ratio <= MAKESPAN_TARGET, judged)}   ({f.makespan:,.0f} s / {f.ideal:,.0f} s)",
        f"   utilisation incl. the draining tail       {f.utilisation_overall:.3f}",
        f"   time queued p50 / p95 / max               {f.queued[0]:,.0f} / {f.queued[1]:,.0f} / {f.queued[2]:,.0f} s",
        "   per job: " + ", ".join(f"{k} {v:.2f}" for k, v in f.per_job.items()),
        f"   vendor 429s {f.vendor_429}, lost races on the item {f.conflicts}, item up to {f.max_item_bytes:,} B, "
        f"peak {f.peak_wcu_per_second} WCU/s on it (DynamoDB's per-partition limit: 1,000)",
        "   outcomes: " + ", ".join(f"{k} {v:,}" for k, v in f.outcomes.items()),
    ]
    if f.plot:
        lines.append(f"   plot: {f.plot}")
    print("\n".join(lines), file=out or sys.stdout)


def _verdict(met: bool, judged: bool = True) -> str:
    return ("met" if met else "NOT MET") if judged else "(not judged)"


def run(ctx: BenchContext) -> SectionResult:
    """`python -m bench`'s section 7 (the sections' common entry point)."""
    return section(ctx.smoke)


def section(smoke: bool = False) -> SectionResult:
    """The same figures as a `python -m bench` section (smoke: 200 jobs only)."""
    result = SectionResult("admission", "7 Admission at scale (the same code on a simulated clock, no AWS)")
    for name in ("burst-200",) if smoke else ("burst-200", "burst-10k", "burst-100k"):
        f = simulate(name, SCENARIOS[name])
        result.add(f"{name}: utilisation of the cap", f"{f.utilisation:.3f}",
                   target=Target(f">= {UTILISATION_TARGET}", f.utilisation >= UTILISATION_TARGET,
                                 "slots stood idle while jobs waited: re-check sooner (bench/README.md)"))
        result.add(f"{name}: makespan / ideal", f"{f.makespan:,.0f} s", f"{f.ideal:,.0f} s", f"{f.makespan_ratio:.3f}",
                   Target(f"<= {MAKESPAN_TARGET}", f.makespan_ratio <= MAKESPAN_TARGET, "see the utilisation"))
        result.add(f"{name}: queued p50/p95/max", " / ".join(f"{q:,.0f} s" for q in f.queued))
        result.add(f"{name}: requests per job", f"{sum(f.per_job[k] for k in _REQUESTS):.1f}")
    result.note("faceswap.admission on an in-memory item on a simulated clock: bench/README.md, 'Admission'.")
    return result


_REQUESTS = ("dynamodb_reads", "dynamodb_writes", "sqs_sends", "sqs_receives", "sqs_deletes", "lambda_invocations")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all of them")
    parser.add_argument("--plot-dir", type=Path, default=Path(".build/bench"), help="where the PNGs go")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    plot_dir = None if args.no_plot else args.plot_dir
    if plot_dir:
        plot_dir.mkdir(parents=True, exist_ok=True)
    met = True
    for name in args.scenario or DEFAULT_SCENARIOS:
        figures = simulate(name, SCENARIOS[name], plot_dir)
        print_figures(figures)
        if name.startswith("burst"):
            met &= figures.utilisation >= UTILISATION_TARGET and figures.makespan_ratio <= MAKESPAN_TARGET
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
