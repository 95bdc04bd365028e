"""Turn a task's inputs (uploaded file ids or public URLs) into local files, failing like the vendor's
downloader: error_download_* when unreachable, size-limit codes when too large."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import requests

from local.emulator.config import Limits
from local.emulator.engine_errors import EngineError
from local.emulator.state import InputRef, Store

CHUNK = 1024 * 1024
DOWNLOAD_TIMEOUT = (5.0, 60.0)  # connect, read (seconds)


@dataclass(frozen=True)
class InputKind:
    download_error: str
    size_error: str
    max_bytes_field: str

    def max_bytes(self, limits: Limits) -> int:
        return int(getattr(limits, self.max_bytes_field))


VIDEO = InputKind("error_download_video", "exceed_max_filesize", "max_video_bytes")
IMAGE = InputKind("error_download_image", "error_exceed_max_image_size", "max_image_bytes")


class InputFetcher:
    def __init__(self, store: Store, limits: Limits) -> None:
        self._store = store
        self._limits = limits

    def fetch(self, ref: InputRef, kind: InputKind, workdir: Path, name: str) -> Path:
        if ref.file_id is not None:
            return self._uploaded(ref.file_id, kind)
        if ref.url is None:
            raise EngineError("invalid_parameter", "input has neither a file id nor a URL")
        path, sha256 = download(ref.url, workdir / name, kind.max_bytes(self._limits), kind)
        self._store.ledger.input_downloaded(sha256)
        return path

    def _uploaded(self, file_id: str, kind: InputKind) -> Path:
        record = self._store.file(file_id)
        if record is None or not record.uploaded or not record.path.exists():
            raise EngineError(kind.download_error, "the file was never uploaded")
        return record.path


def download(url: str, dest: Path, max_bytes: int, kind: InputKind) -> tuple[Path, str]:
    """Stream url to dest without holding it in memory; stop as soon as it is over max_bytes. Returns the path
    and the content's SHA-256. Like the vendor: any answer but 200 (an expired or wrongly signed presigned S3
    URL answers 403) fails the task with error_download_video / error_download_image."""
    try:
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT) as response:
            if response.status_code != 200:
                raise EngineError(kind.download_error, f"GET answered {response.status_code}")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise EngineError(kind.size_error, f"{declared} bytes is over {max_bytes}")
            sha256 = _stream_to(response, dest, max_bytes, kind)
    except requests.RequestException as exc:
        raise EngineError(kind.download_error, type(exc).__name__) from exc
    return dest, sha256


def _stream_to(response: requests.Response, dest: Path, max_bytes: int, kind: InputKind) -> str:
    written = 0
    content = hashlib.sha256()
    with dest.open("wb") as out:
        for chunk in response.iter_content(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise EngineError(kind.size_error, f"more than {max_bytes} bytes")
            content.update(chunk)
            out.write(chunk)
    return content.hexdigest()
