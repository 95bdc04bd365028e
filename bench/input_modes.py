"""8. Input modes side by side, for a 100 MB video: `upload` (the start function streams both files through the
vendor's File API) against `url` (it hands the vendor presigned GET URLs; the vendor fetches them from S3 itself).
Measured on the deployed local stack: the start function's duration for the job, the media bytes that went through
it, and what that costs per 1,000 jobs. (Loopback networking: on AWS the upload takes as long as the link to the
vendor allows, so the `upload` duration here is a lower bound.)"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from bench.context import BenchContext
from bench.cost_model import Prices
from bench.report import SectionResult
from bench.stats import dollars, mib
from local.media import make_video
from local.pipeline import LocalPipeline, function_environment

NAME, TITLE = "inputs", "8 Input modes: upload through the function vs presigned URLs (100 MB video)"
START = "PipelineIngestStartJob"
START_MEMORY_MB = 512
FULL_SIZE, SMOKE_SIZE = 100 * 10**6 - 4096, 4 * 10**6  # the vendor's limit is 100 MB
MODES = ("upload", "url")


@dataclass(frozen=True)
class ModeRun:
    mode: str
    seconds: float  # the start function's invocation that started the job
    through_function: int  # media bytes the function streamed to the vendor
    fetched_by_vendor: int  # media bytes the vendor fetched from S3 itself


def run(ctx: BenchContext) -> SectionResult:
    result = SectionResult(NAME, TITLE)
    video = padded_video(ctx.workdir / "video-100mb.mp4", SMOKE_SIZE if ctx.smoke else FULL_SIZE)
    face = ctx.media()[1]
    pipeline = ctx.pipeline()
    runs = {mode: _one_job(pipeline, mode, video, face) for mode in MODES}
    prices = Prices.load().on("arm64")
    for mode, measured in runs.items():
        cost = 1000 * (measured.seconds * START_MEMORY_MB / 1024 * prices.gb_second + prices.lambda_request)
        result.add(f"{mode}: start function, one job", f"{measured.seconds:.2f} s", f"{dollars(cost)} per 1,000 jobs")
        result.add(f"{mode}: media through the function / fetched by the vendor",
                   f"{mib(measured.through_function)} / {mib(measured.fetched_by_vendor)}")
    result.note(f"A {mib(video.stat().st_size)} video and a small face photo, face pre-check off, {START_MEMORY_MB} MB "
                "arm64 start function (Lambda duration and request only). Both modes send the same bytes out of AWS "
                "to the vendor (from Lambda, or from S3), billed alike as data transfer out.")
    return result


def _one_job(pipeline: LocalPipeline, mode: str, video: Path, face: Path) -> ModeRun:
    pipeline.emulator.reset()
    with function_environment(pipeline, START, INPUT_MODE=mode, FACE_DETECTOR_FUNCTION=""):
        job = pipeline.submit(f"bench-{mode}-mode", video, face, run=_next_run(pipeline, mode))
        view = pipeline.wait_for_job(job, timeout=600)
    if view.execution_status != "SUCCEEDED":
        raise RuntimeError(f"the {mode} job ended {view.execution_status}: {view.error}")
    name = pipeline.stack.function_name(START)
    started = [i for i in pipeline.stack.runtime.invocations if i.function_name == name and job in str(i.event)]
    stats = pipeline.emulator.stats()
    sizes = video.stat().st_size + face.stat().st_size
    return ModeRun(mode, max(i.duration_s for i in started),
                   sizes if stats["uploads_by_sha256"] else 0, sizes if stats["downloads_by_sha256"] else 0)


def _next_run(pipeline: LocalPipeline, mode: str) -> int:
    """A fresh job id each time the section runs on the same stack."""
    run = 1
    while pipeline.job_record(f"bench-{mode}-mode" + (f"--run{run}" if run > 1 else "")) is not None:
        run += 1
    return run


def padded_video(path: Path, size: int) -> Path:
    """A short, valid H.264 MP4 (moov first) grown to `size` bytes by a trailing `free` box, which readers skip:
    the header checks, the File API and the vendor's decoder treat it as the short video it is."""
    if not path.exists():
        make_video(path, seconds=2, size=(320, 180))
        padding = size - path.stat().st_size
        with path.open("ab") as out:
            out.write(struct.pack(">I4s", padding, b"free"))
            out.truncate(size)  # zeros: sparse on disk, read as data
    return path
