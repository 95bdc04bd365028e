"""6. Burst: JOBS uploads at once through the deployed local stack, against an emulated vendor that runs at most CAP
tasks (faceswap:max_tasks_in_flight = CAP): how well admission keeps the vendor's cap busy while jobs wait.

Utilisation = the vendor's running tasks / CAP, integrated from its first create to its last (the busy period, while
jobs waited); target >= 0.9. Makespan = from the uploads to the vendor finishing the last task, against the ideal
JOBS / CAP x the mean processing time; target <= 1.2. Queued = each job's wait from its record's creation to its
task's creation. The picture: running tasks against the cap over time (a PNG beside the report).
"""

from __future__ import annotations

import calendar
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.admission_plot import plot_against_cap
from bench.context import ROOT, BenchContext
from bench.report import SectionResult, Target
from bench.stats import percentile
from local.eventually import eventually
from local.pipeline import LocalPipeline, function_environment

NAME, TITLE = "burst", "6 Burst through the local stack (admission)"
JOBS, CAP, PROCESSING_SECONDS = 200, 20, 20.0
SMOKE = (12, 3, 2.0)
# The emulated vendor sets no create rate: the deployment's own (faceswap:max_creates_per_second) is set to start the
# cap's worth of tasks within a few seconds, not the default 2/s's 10 s (a ramp the ideal does not count).
CREATES_PER_SECOND = 5
WARM_UP_JOBS = 4  # as many as the local runtime runs of one function at once
UTILISATION_TARGET, MAKESPAN_TARGET = 0.9, 1.2
START = "PipelineIngestStartJob"
PLOT = ROOT / ".build" / "bench" / "burst-local.png"


@dataclass(frozen=True)
class BurstFigures:
    utilisation: float
    makespan: float
    ideal: float
    queued: list[float]  # seconds, per job
    running_max: int
    timeline: list[tuple[float, int]]  # seconds since the uploads, running tasks

    @property
    def makespan_ratio(self) -> float:
        return self.makespan / self.ideal


def run(ctx: BenchContext) -> SectionResult:
    jobs, cap, processing = SMOKE if ctx.smoke else (JOBS, CAP, PROCESSING_SECONDS)
    pipeline = ctx.pipeline()
    figures = measure(pipeline, ctx.media(), jobs, cap, processing)
    result = SectionResult(NAME, TITLE)
    result.add(f"Utilisation of the vendor's cap ({jobs} jobs, cap {cap})", f"{figures.utilisation:.3f}",
               target=Target(f">= {UTILISATION_TARGET}", figures.utilisation >= UTILISATION_TARGET,
                             "slots stood idle while jobs waited: see how soon a waiting job re-checks "
                             "(MIN_RECHECK_SECONDS) and how soon a finished job frees its slot (Finalize)"))
    within = figures.makespan_ratio <= MAKESPAN_TARGET
    result.add("Makespan / ideal", f"{figures.makespan:.0f} s", f"{figures.ideal:.0f} s ideal",
               f"{figures.makespan_ratio:.3f}", Target(f"<= {MAKESPAN_TARGET}", within, "see the utilisation"))
    q = figures.queued
    result.add("Time queued, p50 / p95 / max", " / ".join(f"{v:.0f} s" for v in (percentile(q, 50),
                                                                                percentile(q, 95), max(q))))
    result.add("Most tasks running at the vendor at once", str(figures.running_max), f"cap {cap}")
    plot = plot_against_cap({"running at the vendor": figures.timeline}, cap, f"{jobs} uploads at once, local stack",
                            "minutes since the uploads", PLOT) if not ctx.smoke else None
    result.note(f"Deployed local stack; the emulated vendor runs each task {processing:g} s and at most {cap} at once "
                f"(it would answer 429 beyond); faceswap:max_tasks_in_flight = {cap}, max_creates_per_second = "
                f"{CREATES_PER_SECOND}; no face pre-check; "
                f"{WARM_UP_JOBS} warm-up jobs first. "
                f"Running tasks over time: {plot.relative_to(ROOT) if plot else 'not drawn in a smoke run'}.")
    return result


def measure(pipeline: LocalPipeline, media: tuple[Path, Path], jobs: int, cap: int,
            processing: float) -> BurstFigures:
    env = {"MAX_TASKS_IN_FLIGHT": str(cap), "MAX_CREATES_PER_SECOND": str(CREATES_PER_SECOND),
           "CREATE_BURST": str(CREATES_PER_SECOND), "MIN_RECHECK_SECONDS": "1", "FACE_DETECTOR_FUNCTION": "",
           "ADMISSION_INITIAL_HOLD_SECONDS": str(processing)}
    try:
        with function_environment(pipeline, START, **env):
            _warm_up(pipeline, media)
            pipeline.emulator.reset()
            pipeline.reset_admission()
            pipeline.emulator.set_faults(max_running_tasks=cap)
            pipeline.emulator.config.min_processing_seconds = processing
            names = [f"burst-{i:04d}" for i in range(jobs)]
            started = _upload_at_once(pipeline, names, *media)
            _wait_until_done(pipeline, names, 120 + 4 * jobs * processing / cap, "every burst job done")
    finally:
        pipeline.emulator.config.min_processing_seconds = 0.0
    return _figures(pipeline, names, started, cap)


def _warm_up(pipeline: LocalPipeline, media: tuple[Path, Path]) -> None:
    """A few jobs first, so that every function has its local workers running (on AWS, warm execution environments):
    otherwise the first wave's Finalize and webhook workers start while the machine is busiest, and the burst
    measures process start-up on two cores rather than admission."""
    names = [f"burst-warm-up-{i}" for i in range(WARM_UP_JOBS)]
    _upload_at_once(pipeline, names, *media)
    _wait_until_done(pipeline, names, 120, "the warm-up jobs done")


def _upload_at_once(pipeline: LocalPipeline, names: list[str], video: Path, face: Path) -> float:
    s3, bucket = pipeline.client("s3"), pipeline.bucket
    s3.upload_file(str(video), bucket, "videos/burst.mp4")
    s3.upload_file(str(face), bucket, "faces/burst.png")
    started = time.time()
    body = b'{"video": "videos/burst.mp4", "face": "faces/burst.png", "face_check": false}'
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: s3.put_object(Bucket=bucket, Key=f"jobs/{name}.json", Body=body), names))
    return started


def _wait_until_done(pipeline: LocalPipeline, names: list[str], timeout: float, what: str) -> None:
    pending = list(names)
    eventually(lambda: _all_done(pipeline, pending), timeout, interval=1.0, what=what)


def _all_done(pipeline: LocalPipeline, pending: list[str]) -> bool:
    """Drops the jobs that ended from `pending` (in order, up to the first still running): each look costs the
    stack only the jobs that ended since the last one, not a call per job (the bench must not load what it measures)."""
    while pending and pipeline.execution_status(pending[0]) in ("SUCCEEDED", "FAILED"):
        pending.pop(0)
    return not pending


def _figures(pipeline: LocalPipeline, names: list[str], started: float, cap: int) -> BurstFigures:
    stats = pipeline.emulator.stats()
    tasks = stats["tasks"]
    assert len(tasks) == len(names), f"{len(tasks)} vendor tasks for {len(names)} jobs"
    timeline = [(at - started, count) for at, count in stats["running_timeline"]]
    creates = sorted(t["created_at"] - started for t in tasks)
    processing = sum(t["finished_at"] - t["created_at"] for t in tasks) / len(tasks)
    records = [pipeline.job_record(name) or {} for name in names]
    queued = [_epoch(r["submitted_at"]["S"]) - float(r["created_epoch"]["N"]) for r in records]
    return BurstFigures(
        utilisation=_busy_share(timeline, creates[0], creates[-1]) / cap,
        makespan=max(t["finished_at"] for t in tasks) - started, ideal=len(names) / cap * processing,
        queued=queued, running_max=int(stats["running_max"]), timeline=timeline)


def _busy_share(timeline: list[tuple[float, int]], start: float, end: float) -> float:
    """The mean of the step function `timeline` over [start, end]."""
    if end <= start:
        return 0.0
    total, level, at = 0.0, 0, start
    for when, count in timeline:
        if when > start:
            total += level * (min(when, end) - at)
            at = min(when, end)
        level = count
        if when >= end:
            break
    total += level * (end - at)
    return total / (end - start)


def _epoch(iso: str) -> float:
    return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))

