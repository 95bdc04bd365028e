"""End to end on the local stack, asserting on what a user sees: results/ in S3, records, execution history,
and the vendor emulator's own counts of tasks and units."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import imageio_ffmpeg

from faceswap.budgets import MAX_WAIT_SECONDS
from local.aws import time_warp
from local.pipeline import LocalPipeline
from tests.media import Media

FIRST_WAIT_HERE = 15.0  # seconds of real time


def test_webhook_ends_the_wait_before_the_first_poll(pipeline: LocalPipeline, media: Media) -> None:
    # The API asks for a 300 s polling_interval (above 300, "auto" would read milliseconds): the poller's first Wait
    # is its longest, which this test's clock makes 15 s (the emulator's real compositing must end within it, on a
    # busy machine too). Only the webhook can finish the job sooner.
    pipeline.emulator.config.polling_interval_seconds = 300
    started = time.monotonic()
    with _clock(FIRST_WAIT_HERE / MAX_WAIT_SECONDS):
        job = pipeline.submit("webhook-path", media.clip, media.face)
        view = pipeline.wait_for_job(job, timeout=60)
    elapsed = time.monotonic() - started

    assert view.execution_status == "SUCCEEDED"
    assert pipeline.ended_by(job) == "webhook"
    assert "Check task status" not in pipeline.entered_states(job)  # no poll was needed
    assert elapsed < FIRST_WAIT_HERE, f"took {elapsed:.1f} s, as long as a poll"
    assert view.output_key == f"results/{job}/output.mp4"
    assert view.status and view.status["state"] == "SUCCEEDED" and view.status["units"] == 1


@contextmanager
def _clock(scale: float) -> Iterator[None]:
    """Step Functions' clock at another scale for one test (the local stack runs in this process)."""
    before = time_warp.time_scale()
    time_warp.set_time_scale(scale)
    try:
        yield
    finally:
        time_warp.set_time_scale(before)


def test_polling_alone_finishes_when_every_webhook_is_dropped(pipeline: LocalPipeline, media: Media) -> None:
    pipeline.emulator.set_faults(webhook_drop=True)
    job = pipeline.submit("polling-only", media.clip, media.face)
    view = pipeline.wait_for_job(job, timeout=60)

    assert view.execution_status == "SUCCEEDED"
    assert pipeline.ended_by(job) == "polling"
    states = pipeline.entered_states(job)
    assert "Ended by polling" in states and states.count("Check task status") >= 1
    assert view.output_key is not None
    assert pipeline.emulator.stats()["webhooks_dropped"] >= 1


def test_result_is_a_playable_swapped_video(pipeline: LocalPipeline, media: Media, tmp_path: Path) -> None:
    job = pipeline.submit("playable", media.clip, media.face)
    view = pipeline.wait_for_job(job, timeout=60)
    assert view.output_key and view.status
    local = pipeline.download(view.output_key, tmp_path / "out.mp4")
    frames = imageio_ffmpeg.read_frames(str(local))
    meta = next(frames)
    assert meta["codec"] == "h264" and meta["duration"] > 2.5
    assert sum(1 for _ in frames) >= 60
    # Byte for byte what the vendor produced (the emulator's composited video).
    assert local.read_bytes() == Path(pipeline.emulator.result_file(view.status["task_id"])).read_bytes()


def test_vendor_task_error_ends_in_error_json_naming_it(pipeline: LocalPipeline, media: Media) -> None:
    pipeline.emulator.set_faults(task_error_code="error_no_face")
    job = pipeline.submit("vendor-error", media.clip, media.face)
    view = pipeline.wait_for_job(job, timeout=60)

    assert view.execution_status == "FAILED"
    assert view.error is not None
    assert view.error["vendor_code"] == "error_no_face"
    assert view.error["error_class"] == "NoFaceDetected"
    assert view.error["what_to_fix"]
    assert view.output_key is None
    failed = next(e for e in pipeline.history(job) if e["type"] == "ExecutionFailed")
    assert failed["executionFailedEventDetails"]["error"] == "Vendor.error_no_face"


def test_invalid_video_spends_no_unit(pipeline: LocalPipeline, media: Media) -> None:
    too_fast = media.video(seconds=1, fps=60, size=(160, 90))
    job = pipeline.submit("sixty-fps", too_fast, media.face)
    view = pipeline.wait_for_job(job, timeout=30)

    assert view.execution_status == "NONE"  # never started
    assert view.error is not None and view.error["code"] == "video_fps_too_high"
    assert "30" in view.error["message"]
    stats = pipeline.emulator.stats()
    assert stats["tasks_created"] == 0 and stats["units_charged"] == 0 and stats["files_created"] == 0


def test_records_carry_the_vendor_task_and_units(pipeline: LocalPipeline, media: Media) -> None:
    job = pipeline.submit("records", media.clip, media.face)
    view = pipeline.wait_for_job(job, timeout=60)
    record = pipeline.job_record(job)
    assert record is not None
    assert record["state"]["S"] == "SUCCEEDED"
    assert record["task_id"]["S"] == view.status["task_id"]  # type: ignore[index]
    charges = pipeline.emulator.stats()["charges"]
    assert [c["units"] for c in charges] == [int(record["units"]["N"])] == [1]
    assert view.status and view.status["video_key"] == "videos/clip.mp4"
