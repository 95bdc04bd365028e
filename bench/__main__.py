"""`python -m bench`: every measurement as a ratio against a baseline measured in the same run, one table,
"met" / "NOT MET" per target. `--only cost,ttr` picks sections; `--smoke` is a tiny fast run (targets not judged).

Exit status: 0 when every target is met (or in smoke mode), 1 when one is not, 2 when a section failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType

from bench.context import BenchContext, Options
from bench.machine import describe_machine
from bench.report import SectionResult, all_met, print_report, to_json, write_json

# Run order: the two sections on the deployed pipeline first, then the ones that start servers of their own.
SECTIONS = ("ttr", "cost", "burst", "inputs", "streaming", "webhook", "coldstart", "admission")
NEEDS_PIPELINE = frozenset({"ttr", "cost", "burst", "inputs"})


def _module(name: str) -> ModuleType:
    import importlib

    modules = {"ttr": "bench.time_to_result", "streaming": "bench.streaming", "coldstart": "bench.cold_start",
               "webhook": "bench.webhook_handler", "cost": "bench.cost", "burst": "bench.burst",
               "inputs": "bench.input_modes", "admission": "bench.admission_sim"}
    return importlib.import_module(modules[name])


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    # moto's request recorder (the cost section counts requests with it) writes where this says, read at import.
    os.environ.setdefault("MOTO_RECORDER_FILEPATH", os.path.join(tempfile.gettempdir(),
                                                                  f"faceswap-bench-{os.getpid()}.moto"))
    ctx = BenchContext(Options(smoke=args.smoke, cdk_out=args.cdk_out, time_scale=args.time_scale,
                               jobs=args.jobs, in_flight=args.in_flight, keep=args.keep))
    started = time.monotonic()
    results, failed = _run_sections(ctx, _selected(args.only))
    header = [f"faceswap benchmarks ({'smoke' if args.smoke else 'full'} run, "
              f"{time.monotonic() - started:.0f} s)", *describe_machine()]
    print_report(results, header, args.smoke, sys.stdout)
    if args.json:
        write_json(args.json, {**to_json(results, header, args.smoke), "failed": failed})
    if failed:
        print(f"\nSections that failed: {', '.join(failed)}", file=sys.stderr)
        return 2
    return 0 if args.smoke or all_met(results) else 1


def _run_sections(ctx: BenchContext, names: list[str]) -> tuple[list[SectionResult], list[str]]:
    results: list[SectionResult] = []
    failed: list[str] = []
    try:
        for name in names:
            if name not in NEEDS_PIPELINE:
                ctx.close_pipeline()  # keep the cores free for the servers this section starts
            outcome = _timed(name, ctx)
            if outcome is None:
                failed.append(name)
            else:
                results.append(outcome)
    finally:
        ctx.close()
    return results, failed


def _timed(name: str, ctx: BenchContext) -> SectionResult | None:
    print(f"==> {name}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        result: SectionResult = _module(name).run(ctx)
    except Exception:
        traceback.print_exc()
        return None
    result.seconds = time.monotonic() - started
    print(f"    {name} done in {result.seconds:.0f} s", file=sys.stderr, flush=True)
    return result


def _selected(only: str | None) -> list[str]:
    if not only:
        return list(SECTIONS)
    wanted = {part.strip() for part in only.split(",") if part.strip()}
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s): {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return [name for name in SECTIONS if name in wanted]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds per section")
    parser.add_argument("--cdk-out", type=Path, help="use this synthesized app instead of synthesizing one")
    parser.add_argument("--time-scale", type=float, default=None,
                        help="time scale of Wait states and vendor processing (default 1, smoke 0.1)")
    parser.add_argument("--jobs", type=int, default=20, help="jobs per path for time to result (default 20)")
    parser.add_argument("--in-flight", type=int, default=3, help="jobs running at once (default 3)")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    if args.time_scale is None:
        args.time_scale = 0.1 if args.smoke else 1.0
    if args.jobs < 2 or args.in_flight < 1 or args.time_scale <= 0:
        parser.error("--jobs >= 2, --in-flight >= 1 and --time-scale > 0 please")
    return args


if __name__ == "__main__":
    raise SystemExit(main())
