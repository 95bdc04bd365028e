"""One transfer in a fresh process, measuring its own peak RSS growth and time (run by bench.streaming).

    python -m bench.streaming_child --job JSON --out FILE

kind = project-upload   faceswap.transfer.upload_to_vendor: S3 object -> File API registration + PUT
       plain-upload     the same bytes the plain way: S3 GET to a file, then one requests PUT of that file
       project-download faceswap.transfer.copy_result_to_s3: result URL -> S3 (multipart, 8 MiB parts)
       plain-download   requests GET of the result URL to a file, then one S3 put_object of that file

Clients are built before the measurement starts, as a Lambda builds them at init. The peak is the kernel's
high-water mark (VmHWM), reset through /proc/self/clear_refs just before the transfer.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import requests

CHUNK = 1024 * 1024


def _status_kib() -> dict[str, int]:
    text = Path("/proc/self/status").read_text()
    return {name: int(re.search(rf"{name}:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
            for name in ("VmRSS", "VmHWM")}


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # "5": reset the peak RSS to the current RSS


def measure(transfer: Callable[[], Any]) -> dict[str, Any]:
    _reset_peak()
    before = _status_kib()["VmRSS"]
    started = time.perf_counter()
    outcome = transfer()
    seconds = time.perf_counter() - started
    peak = _status_kib()["VmHWM"]
    return {"seconds": seconds, "rss_before_kib": before, "peak_kib": peak,
            "growth_bytes": max(0, peak - before) * 1024, "outcome": outcome}


def _s3(job: dict[str, Any]) -> Any:
    return boto3.client("s3", endpoint_url=job["endpoint_url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _vendor(job: dict[str, Any]) -> Any:
    from faceswap.config import VendorSettings
    from faceswap.youcam.client import YouCamClient

    return YouCamClient(job["api_key"], VendorSettings(base_url=job["vendor_base_url"]))


def project_upload(job: dict[str, Any]) -> Callable[[], Any]:
    from faceswap.transfer import upload_to_vendor

    s3, client = _s3(job), _vendor(job)
    return lambda: upload_to_vendor(s3, job["bucket"], job["key"], job["size"], client)


def project_download(job: dict[str, Any]) -> Callable[[], Any]:
    from faceswap.transfer import copy_result_to_s3

    s3, client = _s3(job), _vendor(job)
    return lambda: copy_result_to_s3(client, job["result_url"], s3, job["bucket"], job["target_key"])


def plain_upload(job: dict[str, Any]) -> Callable[[], Any]:
    s3, session = _s3(job), requests.Session()
    scratch = Path(tempfile.mkdtemp(dir=job["scratch"])) / "copy.bin"

    def transfer() -> str:
        declared = {"content_type": "video/mp4", "file_name": "plain.mp4", "file_size": job["size"]}
        answer = session.post(job["vendor_base_url"] + job["file_path"], json={"files": [declared]},
                              headers={"Authorization": f"Bearer {job['api_key']}"}, timeout=30)
        answer.raise_for_status()
        ticket = answer.json()["data"]["files"][0]
        body = s3.get_object(Bucket=job["bucket"], Key=job["key"])["Body"]
        with scratch.open("wb") as out:
            while chunk := body.read(CHUNK):
                out.write(chunk)
        put = ticket["requests"][0]
        with scratch.open("rb") as source:
            session.put(put["url"], data=source, headers=put["headers"], timeout=300).raise_for_status()
        return str(ticket["file_id"])

    return transfer


def plain_download(job: dict[str, Any]) -> Callable[[], Any]:
    s3, session = _s3(job), requests.Session()
    scratch = Path(tempfile.mkdtemp(dir=job["scratch"])) / "copy.bin"

    def transfer() -> None:
        with session.get(job["result_url"], stream=True, timeout=300) as answer, scratch.open("wb") as out:
            answer.raise_for_status()
            for chunk in answer.iter_content(CHUNK):
                out.write(chunk)
        with scratch.open("rb") as source:
            s3.put_object(Bucket=job["bucket"], Key=job["target_key"], Body=source, ContentType="video/mp4")

    return transfer


KINDS = {"project-upload": project_upload, "plain-upload": plain_upload,
         "project-download": project_download, "plain-download": plain_download}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", required=True, help="JSON: kind, endpoint_url, bucket, key, size, ...")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    job = json.loads(args.job)
    transfer = KINDS[job["kind"]](job)
    Path(args.out).write_text(json.dumps(measure(transfer)))


if __name__ == "__main__":
    main()
