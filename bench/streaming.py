"""2. Streaming: a 100 MiB video S3 -> File API PUT, and a result URL -> S3, through the project's own code
(faceswap.transfer.upload_to_vendor / copy_result_to_s3) against moto's server and the vendor emulator.
Targets: peak RSS growth <= 64 MiB and throughput >= 0.8x a plain loopback copy of the same bytes.

moto's server and the emulator each run in a process of their own, as S3 and the vendor share nothing on AWS
(in the harness process they share one GIL with each other and with the harness, and the measured ratio moved
between 0.7x and 1.6x with the machine's load: a streamed copy keeps both servers busy at once, a sequential copy
one at a time). Every transfer runs in a fresh child process (bench.streaming_child) that
imports the code from the built Lambda bundle and measures its own peak RSS, so the harness does not count.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

from bench.context import BenchContext
from bench.report import SectionResult, Target
from bench.stats import median, mib

NAME, TITLE = "streaming", "2 Streaming"
MiB = 2**20
FULL_SIZE, SMOKE_SIZE = 100 * MiB, 8 * MiB  # 100 MiB: the vendor's largest accepted video
MAX_GROWTH = 64 * MiB
MIN_THROUGHPUT_RATIO = 0.8
BUCKET = "bench-streaming"
FILE_PATH = "/s2s/v2.0/file/face-swap-vid"
TASK_PATH = "/s2s/v2.0/task/face-swap-vid"
DIRECTIONS = (("upload", "S3 -> File API PUT"), ("download", "result URL -> S3"))


def run(ctx: BenchContext) -> SectionResult:
    result = SectionResult(NAME, TITLE)
    size, rounds = (SMOKE_SIZE, 1) if ctx.smoke else (FULL_SIZE, 5)
    blob = _make_video_blob(ctx.workdir / "big-video.mp4", size)
    with _moto_in_its_own_process() as moto_url, _emulator_in_its_own_process(ctx.workdir) as emulator:
        s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(blob), BUCKET, "videos/big-video.mp4")
        base = {"endpoint_url": moto_url, "bucket": BUCKET, "key": "videos/big-video.mp4", "size": size,
                "vendor_base_url": emulator.base_url, "api_key": emulator.api_key, "file_path": FILE_PATH,
                "result_url": _result_url(emulator, ctx.media(), blob), "scratch": str(ctx.workdir)}
        samples = _measure_all(ctx, base, rounds)
        _verify(s3, emulator, samples, size)
    for direction, label in DIRECTIONS:
        _rows(result, label, samples[f"project-{direction}"], samples[f"plain-{direction}"], size)
    _notes(result, size, rounds)
    return result


def _measure_all(ctx: BenchContext, base: dict[str, Any], rounds: int) -> dict[str, list[dict[str, Any]]]:
    samples: dict[str, list[dict[str, Any]]] = {}
    env = ctx.child_env(ctx.bundle_dir())
    for round_no in range(rounds):
        for direction, _ in DIRECTIONS:
            pair = ("project", "plain") if round_no % 2 == 0 else ("plain", "project")  # alternate the order
            for impl in pair:
                kind = f"{impl}-{direction}"
                job = {**base, "kind": kind, "target_key": f"results/{kind}-{round_no}.mp4"}
                sample = ctx.run_child("bench.streaming_child", ["--job", json.dumps(job)], env, timeout=600)
                samples.setdefault(kind, []).append({**sample, "target_key": job["target_key"]})
    return samples


@dataclass(frozen=True)
class _EmulatorProcess:
    """`python -m local.emulator` in its own process, driven over HTTP, its files in `storage_dir`."""

    base_url: str
    api_key: str
    storage_dir: Path

    def wait_for_task(self, task_id: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = requests.get(f"{self.base_url}{TASK_PATH}/{task_id}", timeout=30,
                                  headers={"Authorization": f"Bearer {self.api_key}"})
            answer.raise_for_status()
            if (status := str(answer.json()["data"]["task_status"])) != "running":
                return status
            time.sleep(0.2)
        raise TimeoutError(f"task {task_id} still running after {timeout} s")

    def result_file(self, task_id: str) -> str:
        from local.emulator.storage import Storage

        return str(Storage(self.storage_dir).result_path(task_id))

    def stats(self) -> dict[str, Any]:
        answer = requests.get(f"{self.base_url}/_emulator/stats", timeout=30)
        answer.raise_for_status()
        return dict(answer.json())


@contextmanager
def _moto_in_its_own_process() -> Iterator[str]:
    port = _free_port()
    with _server([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                 f"http://127.0.0.1:{port}/moto-api/"):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def _emulator_in_its_own_process(workdir: Path) -> Iterator[_EmulatorProcess]:
    port, storage = _free_port(), workdir / "emulator"
    emulator = _EmulatorProcess(f"http://127.0.0.1:{port}", "bench-key", storage)
    command = [sys.executable, "-m", "local.emulator", "--host", "127.0.0.1", "--port", str(port),
               "--api-key", emulator.api_key, "--storage-dir", str(storage)]
    with _server(command, f"{emulator.base_url}/_emulator/stats"):
        yield emulator


@contextmanager
def _server(command: list[str], probe_url: str, timeout: float = 60.0) -> Iterator[None]:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(probe_url, timeout=2)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[2]} did not start ({probe_url})") from None
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _make_video_blob(path: Path, size: int) -> Path:
    """An MP4 ftyp header, then incompressible bytes: transfer code never parses the content."""
    with path.open("wb") as out:
        out.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
        while (left := size - out.tell()) > 0:
            out.write(os.urandom(min(MiB, left)))
    return path


def _result_url(emulator: _EmulatorProcess, media: tuple[Path, Path], blob: Path) -> str:
    """A real task on the emulator (tiny inputs), whose result file is then replaced by the big blob."""
    base, auth = emulator.base_url, {"Authorization": f"Bearer {emulator.api_key}"}
    video, face = media
    src = _upload(base, auth, video, "video/mp4")
    ref = _upload(base, auth, face, "image/png")
    created = requests.post(base + TASK_PATH, json={"src_file_id": src, "ref_file_id": ref, "dst_duration": 1},
                            headers=auth, timeout=30)
    created.raise_for_status()
    task_id = created.json()["data"]["task_id"]
    if emulator.wait_for_task(task_id, timeout=120) != "success":
        raise RuntimeError("the emulator could not process the bench clip")
    target = Path(emulator.result_file(task_id))
    target.unlink()
    try:
        os.link(blob, target)
    except OSError:
        shutil.copyfile(blob, target)
    status = requests.get(f"{base}{TASK_PATH}/{task_id}", headers=auth, timeout=30)
    status.raise_for_status()
    return str(status.json()["data"]["results"]["url"])


def _upload(base: str, auth: dict[str, str], path: Path, content_type: str) -> str:
    declared = {"content_type": content_type, "file_name": path.name, "file_size": path.stat().st_size}
    answer = requests.post(base + FILE_PATH, json={"files": [declared]}, headers=auth, timeout=30)
    answer.raise_for_status()
    ticket = answer.json()["data"]["files"][0]
    put = ticket["requests"][0]
    requests.put(put["url"], data=path.read_bytes(), headers=put["headers"], timeout=30).raise_for_status()
    return str(ticket["file_id"])


def _verify(s3: Any, emulator: _EmulatorProcess, samples: dict[str, list[dict[str, Any]]], size: int) -> None:
    """Every transfer moved every byte: the S3 copies have the full size, every upload completed."""
    for kind, runs in samples.items():
        for sample in runs:
            if kind.endswith("download"):
                length = s3.head_object(Bucket=BUCKET, Key=sample["target_key"])["ContentLength"]
                if length != size:
                    raise RuntimeError(f"{kind} stored {length} of {size} bytes")
    uploads = sum(len(runs) for kind, runs in samples.items() if kind.endswith("upload"))
    if emulator.stats()["uploads_completed"] < uploads + 2:  # + the bench clip and face
        raise RuntimeError("an upload to the emulator did not complete")


def _rows(result: SectionResult, label: str, project: list[dict[str, Any]], plain: list[dict[str, Any]],
          size: int) -> None:
    project_rate, plain_rate = size / median([s["seconds"] for s in project]), size / median(
        [s["seconds"] for s in plain])
    rate_ratio = project_rate / plain_rate
    growth, plain_growth = max(s["growth_bytes"] for s in project), max(s["growth_bytes"] for s in plain)
    result.add(f"{label}: throughput ({mib(size)})", f"{mib(project_rate)}/s", f"{mib(plain_rate)}/s plain copy",
               f"{rate_ratio:.2f}x", Target(f">= {MIN_THROUGHPUT_RATIO}x", rate_ratio >= MIN_THROUGHPUT_RATIO,
                                           f"the project's transfer runs at {rate_ratio:.2f}x a plain copy of the "
                                           "same bytes; larger chunks (YOUCAM_TRANSFER_CHUNK_BYTES) or "
                                           "concurrent multipart parts would close the gap"))
    result.add(f"{label}: peak RSS growth", f"+{mib(growth)}", f"+{mib(plain_growth)} plain copy",
               f"{growth / max(plain_growth, 1):.2f}x",
               Target(f"<= {MAX_GROWTH // MiB} MiB", growth <= MAX_GROWTH,
                      f"the transfer held {mib(growth)} at its peak; something buffers more than one chunk or part"))


def _notes(result: SectionResult, size: int, rounds: int) -> None:
    result.note(
        f"{mib(size)} of incompressible bytes behind an MP4 header (the transfer code never parses media), moved "
        f"{rounds} time(s) each way by each implementation, order alternated; throughput from the median time, "
        "peak RSS growth is the worst round.")
    result.note(
        "Project = faceswap.transfer (imported from the built Lambda bundle): upload_to_vendor streams the S3 body "
        "into the File API PUT in 1 MiB pieces; copy_result_to_s3 streams the result URL into S3 multipart, 8 MiB "
        "parts, one at a time. Baseline = a plain loopback copy of the same bytes in the same kind of child: S3 GET "
        "to a file then one requests PUT of it, and requests GET to a file then one S3 put_object of it.")
    result.note(
        "Each transfer runs in a fresh child process with its clients built first (as at Lambda init); growth = "
        "the kernel's VmHWM after the transfer minus VmRSS before, with the high-water mark reset through "
        "/proc/self/clear_refs. moto's server and the emulator each run in a process of their own (two services "
        "that share nothing on AWS).")
