"""`faceswap` end to end on the local stack: what a user types and what they read back."""

from __future__ import annotations

import json
from pathlib import Path

from faceswap_cli import Clients, check_inputs, load_local_stack, submit_job, wait_for_result
from faceswap_cli.jobs import upload_file
from faceswap_cli.stack import StackInfo
from local.eventually import eventually
from tests.cli.conftest import CliRun, LocalCli
from tests.media import Media


def _stack(cli: LocalCli) -> StackInfo:
    return load_local_stack(cli.state_file)


def test_submit_wait_downloads_the_swapped_video(cli: LocalCli, media: Media, tmp_path: Path) -> None:
    out = tmp_path / "swapped.mp4"
    run = cli("submit", media.clip, media.face, "--name", "cli-wait", "--wait", "-o", out)

    assert run.code == 0, run.err
    assert run.out.strip() == str(out)
    assert out.read_bytes()[4:8] == b"ftyp"  # an MP4
    assert "uploading clip.mp4" in run.err and "100%" in run.err
    assert "cli-wait: running" in run.err and "succeeded" in run.err
    assert "1 vendor unit(s) charged" in run.err


def test_status_list_and_result_after_a_job(cli: LocalCli, media: Media, tmp_path: Path) -> None:
    submitted = cli("submit", media.clip, media.face, "--name", "cli-status")
    assert submitted.code == 0, submitted.err
    assert submitted.out.strip() == "cli-status"
    assert "faceswap --local wait cli-status" in submitted.err
    assert wait_for_result(None, _stack(cli), "cli-status", timeout=60, poll_interval=0.1).succeeded

    status = cli("status", "cli-status")
    assert status.code == 0, status.err
    assert "SUCCEEDED" in status.out and "units" in status.out
    as_json = json.loads(cli("status", "cli-status", "--json").out)
    assert as_json["record"]["units"] == 1 and as_json["output_key"] == "results/cli-status/output.mp4"

    listed = {job["job_id"]: job for job in json.loads(cli("list", "--json").out)}
    assert listed["cli-status"]["state"] == "SUCCEEDED" and listed["cli-status"]["units"] == 1
    assert "cli-status" in cli("list").out

    result = cli("result", "cli-status", "-o", tmp_path / "r.mp4")
    assert result.code == 0 and (tmp_path / "r.mp4").stat().st_size > 0


def test_the_python_api_submits_and_waits(cli: LocalCli, media: Media) -> None:
    stack = _stack(cli)
    clients = Clients.for_stack(stack)
    job = submit_job(clients, stack, media.clip, media.face, name="api-job", run=2)
    seen: list[str] = []
    result = wait_for_result(clients, stack, job.job_id, timeout=60, poll_interval=0.1,
                             on_progress=lambda p: seen.append(p.phase))

    assert job.job_id == "api-job--run2" and job.units == 1
    assert result.succeeded and result.output_key == "results/api-job--run2/output.mp4"
    assert result.ended_by in ("webhook", "polling")
    assert seen[-1] == "SUCCEEDED" and "running" in seen


def test_a_failed_job_prints_the_reason_and_the_fix(cli: LocalCli, media: Media) -> None:
    run = cli("submit", media.clip, media.no_face_image, "--name", "cli-no-face", "--wait")

    assert run.code == 1
    report = cli.pipeline.read_json("results/cli-no-face/error.json")
    assert report is not None
    assert f"{report['message']}\n  {report['what_to_fix']}" in run.err
    assert "Traceback" not in run.err
    assert cli("status", "cli-no-face").code == 1


def test_bad_files_are_explained_before_anything_is_uploaded(cli: LocalCli, media: Media, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    too_fast = media.video(seconds=1, fps=60, size=(160, 90))
    before = cli.pipeline.client("s3").list_objects_v2(Bucket=cli.pipeline.bucket).get("KeyCount", 0)

    as_text = cli("submit", text, media.face)
    assert as_text.code == 2
    assert "notes.txt is not a video the pipeline accepts" in as_text.err and ".mp4, .mov" in as_text.err
    over_limit = cli("submit", too_fast, media.face)
    assert over_limit.code == 2 and "fps" in over_limit.err
    face_as_video = cli("submit", media.clip, media.clip)
    assert face_as_video.code == 2 and "JPEG or PNG" in face_as_video.err
    assert "Traceback" not in as_text.err + over_limit.err + face_as_video.err
    after = cli.pipeline.client("s3").list_objects_v2(Bucket=cli.pipeline.bucket).get("KeyCount", 0)
    assert after == before


def test_mistakes_read_as_sentences_with_the_fix(cli: LocalCli, media: Media, tmp_path: Path) -> None:
    unknown = cli("status", "no-such-job")
    assert unknown.code == 4 and "There is no job no-such-job" in unknown.err and "faceswap list" in unknown.err

    first = cli("submit", media.clip, media.face, "--name", "cli-twice")
    assert first.code == 0
    again = cli("submit", media.clip, media.face, "--name", "cli-twice")
    assert again.code == 2 and "already exists" in again.err and "--run 2" in again.err

    bad_name = cli("submit", media.clip, media.face, "--name", "no spaces")
    assert bad_name.code == 2 and "not allowed" in bad_name.err


def test_no_local_stack_says_how_to_start_one(cli: LocalCli, tmp_path: Path) -> None:
    missing = LocalCli(cli.pipeline, tmp_path / "absent.json")("list")
    assert missing.code == 3
    assert missing.err.strip().splitlines() == [
        "faceswap: No local stack is running (no .local-stack.json found).",
        "  Start it with `make local-up` in another terminal, then run this command again."]

    stale = tmp_path / "stale.json"
    state = json.loads(cli.state_file.read_text())
    stale.write_text(json.dumps({**state, "pid": 2**22 + 1}))  # above pid_max defaults: never a live process
    assert "left over from one that stopped" in LocalCli(cli.pipeline, stale)("list").err


class _Recorder:
    def __init__(self) -> None:
        self.total = self.done = self.calls = 0

    def begin(self, label: str, total_bytes: int) -> None:
        self.total = total_bytes

    def advance(self, bytes_done: int) -> None:
        self.done += bytes_done
        self.calls += 1

    def end(self) -> None:
        pass


def test_large_videos_go_up_in_parallel_parts_with_progress(cli: LocalCli, media: Media, tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    padding = 20_000_000  # a trailing top-level 'free' box: still a valid MP4, now over the multipart threshold
    with big.open("wb") as out:
        out.write(media.clip.read_bytes() + padding.to_bytes(4, "big") + b"free")
        out.truncate(big.stat().st_size + padding - 8)
    stack = _stack(cli)
    clients = Clients.for_stack(stack)
    check_inputs(big, media.face)  # the local checks accept it
    watcher = _Recorder()

    upload_file(clients, stack, big, "videos/big-upload/big.mp4", watcher)

    head = clients.s3.head_object(Bucket=stack.bucket, Key="videos/big-upload/big.mp4")
    assert head["ContentLength"] == big.stat().st_size and head["ContentType"] == "video/mp4"
    assert head["ETag"].strip('"').endswith("-2")  # two 16 MB parts
    assert watcher.total == watcher.done == big.stat().st_size and watcher.calls > 2


def test_list_shows_jobs_rejected_before_they_had_a_record(cli: LocalCli) -> None:
    p = cli.pipeline
    p.client("s3").put_object(Bucket=p.bucket, Key="jobs/bad-manifest.json", Body=b"{not json")
    p.wait_for_job("bad-manifest", timeout=30)

    listed = {job["job_id"]: job for job in json.loads(cli("list", "--json").out)}
    assert listed["bad-manifest"]["state"] == "FAILED"
    assert listed["bad-manifest"]["error_code"] == "manifest_invalid"
    status = cli("status", "bad-manifest")
    assert status.code == 1 and "failed [manifest_invalid]" in status.err


def test_a_waiting_job_shows_as_queued_with_since_when_and_why(cli: LocalCli, media: Media) -> None:
    emulator = cli.pipeline.emulator
    emulator.set_faults(rate_429=1.0)  # the vendor pushes back: the job waits in the start queue
    try:
        assert cli("submit", media.clip, media.face, "--name", "cli-queued").code == 0
        status = eventually(lambda: _queued(cli("status", "cli-queued")), 60, what="the job QUEUED")
        assert "queued since" in status.out and "waiting for" in status.out
        listed = cli("list")
        assert any("cli-queued" in line and "QUEUED" in line and ("vendor_busy" in line or "breaker_open" in line)
                   for line in listed.out.splitlines()), listed.out
    finally:
        emulator.set_faults(rate_429=0.0)
    assert wait_for_result(None, _stack(cli), "cli-queued", timeout=90, poll_interval=0.2).succeeded


def _queued(run: CliRun) -> CliRun | None:
    return run if run.code == 0 and "QUEUED" in run.out else None
