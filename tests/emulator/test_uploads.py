"""The presigned PUT upload URL behaves like S3's: exact declared headers, signature and expiry checked,
bodies streamed to disk (a 100 MiB upload works)."""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from local import media
from local.emulator import Emulator
from tests.emulator.conftest import Media
from tests.emulator.helpers import VendorClient


def _put(url: str, body: bytes | Iterator[bytes], headers: dict[str, str]) -> requests.Response:
    return requests.put(url, data=body, headers=headers, timeout=30)


def test_upload_with_declared_headers_succeeds(client: VendorClient, emulator: Emulator, media_files: Media) -> None:
    body = media_files.reference_jpg.read_bytes()
    entry = client.declare("image/jpeg", "ref.jpg", len(body))
    put = entry["requests"][0]
    answer = _put(put["url"], body, put["headers"])
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert emulator.stats()["uploads_completed"] == 1


def test_wrong_content_type_is_refused(client: VendorClient, emulator: Emulator) -> None:
    entry = client.declare("image/jpeg", "ref.jpg", 5)
    answer = _put(entry["requests"][0]["url"], b"12345", {"Content-Type": "image/png"})
    assert answer.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text
    assert emulator.stats()["uploads_completed"] == 0


@pytest.mark.parametrize("body", [b"1234", b"123456"], ids=["shorter", "longer"])
def test_wrong_content_length_is_refused(client: VendorClient, body: bytes) -> None:
    entry = client.declare("image/jpeg", "ref.jpg", 5)
    answer = _put(entry["requests"][0]["url"], body, {"Content-Type": "image/jpeg"})
    assert answer.status_code == 403
    assert "Content-Length" in answer.text


def test_chunked_upload_without_length_is_refused(client: VendorClient) -> None:
    entry = client.declare("image/jpeg", "ref.jpg", 5)
    answer = _put(entry["requests"][0]["url"], iter([b"12", b"345"]), {"Content-Type": "image/jpeg"})
    assert answer.status_code == 411
    assert "<Code>MissingContentLength</Code>" in answer.text


def test_tampered_signature_is_refused(client: VendorClient) -> None:
    entry = client.declare("image/jpeg", "ref.jpg", 5)
    url = urlsplit(entry["requests"][0]["url"])
    query = dict(parse_qsl(url.query))
    query["expires"] = str(float(query["expires"]) + 3600)  # try to extend the lifetime
    forged = url._replace(query=urlencode(query)).geturl()
    answer = _put(forged, b"12345", entry["requests"][0]["headers"])
    assert answer.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text


def test_expired_upload_url_is_refused(emulator: Emulator, client: VendorClient) -> None:
    entry = client.declare("image/jpeg", "ref.jpg", 5)
    emulator.advance_clock(emulator.config.upload_url_ttl_seconds + 1)
    answer = _put(entry["requests"][0]["url"], b"12345", entry["requests"][0]["headers"])
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text


def test_connection_stays_usable_after_a_refused_upload(client: VendorClient) -> None:
    entry = client.declare("image/jpeg", "ref.jpg", 5)
    session = requests.Session()
    refused = session.put(entry["requests"][0]["url"], data=b"12345", headers={"Content-Type": "text/plain"})
    accepted = session.put(entry["requests"][0]["url"], data=b"12345", headers=entry["requests"][0]["headers"])
    assert (refused.status_code, accepted.status_code) == (403, 200)


def test_never_uploaded_input_fails_the_task_with_a_download_error(
    client: VendorClient, emulator: Emulator, media_files: Media
) -> None:
    src = client.declare("video/mp4", "clip.mp4", 1000)["file_id"]
    task_id = client.start(src, client.upload(media_files.reference_jpg), 1)
    assert emulator.wait_for_task(task_id, timeout=10) == "error"
    assert client.status(task_id).json()["data"]["error"] == "error_download_video"


def test_100_mib_upload_is_streamed_to_disk(client: VendorClient, emulator: Emulator, tmp_path: Path) -> None:
    size = 100 * 1024 * 1024
    big = media.make_sparse_file(tmp_path / "big.mp4", size, head=b"\x00\x00\x00\x18ftypmp42")
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    file_id = client.upload(big, "video/mp4")
    elapsed = time.monotonic() - started
    # Client and emulator share this process: neither may have held the body in memory.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib < 50 * 1024
    stored = list((emulator.config.storage_dir or tmp_path).glob("uploads/*.bin"))
    assert [p.stat().st_size for p in stored] == [size]
    assert emulator.stats()["uploads_completed"] == 1
    assert elapsed < 20, f"100 MiB upload took {elapsed:.1f} s"
    assert file_id
