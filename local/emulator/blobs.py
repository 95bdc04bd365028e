"""The presigned-URL side, S3-like: PUT uploads (headers must match what was declared) and result GETs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from local.emulator.clock import Clock
from local.emulator.routing import Request, Response, RouteKind, Router, s3_error
from local.emulator.signing import UrlSigner
from local.emulator.state import Store
from local.emulator.storage import Storage
from local.emulator.vendor_api import UPLOAD_PATH

RESULT_PATH = "/_results/{task_id}.mp4"
CHUNK = 1024 * 1024


class IncompleteBody(Exception):
    pass


class BlobEndpoints:
    def __init__(self, store: Store, storage: Storage, signer: UrlSigner, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._storage = storage
        self._signer = signer

    def register(self, router: Router) -> None:
        router.add("PUT", UPLOAD_PATH, RouteKind.BLOB, self.upload)
        router.add("GET", RESULT_PATH, RouteKind.BLOB, self.result)

    def _refused(self, request: Request, method: str) -> Response | None:
        problem = self._signer.check(method, request.path, request.query, self._clock.now())
        if problem == "AccessDenied":
            return s3_error(403, "AccessDenied", "Request has expired")
        if problem is not None:
            return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        return None

    def upload(self, request: Request) -> Response:
        refused = self._refused(request, "PUT")
        if refused is not None:
            return refused
        record = self._store.file_for_upload(request.params["upload_key"])
        if record is None:
            return s3_error(404, "NoSuchUpload", "The upload is unknown (emulator reset?)")
        if request.content_length is None or "transfer-encoding" in request.headers:
            return s3_error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        mismatch = _header_mismatch(request, record.content_type, record.file_size)
        if mismatch is not None:
            # S3 signs these headers into the presigned URL: any difference breaks the signature.
            return s3_error(403, "SignatureDoesNotMatch", mismatch)
        try:
            etag, sha256 = _receive(request, record.path, record.file_size)
        except IncompleteBody:
            return s3_error(400, "IncompleteBody", "You did not provide the number of bytes in Content-Length")
        self._store.mark_uploaded(record.file_id, sha256)
        return Response(200, b"", {"ETag": f'"{etag}"'})

    def result(self, request: Request) -> Response:
        refused = self._refused(request, "GET")
        if refused is not None:
            return refused
        path = self._storage.result_path(request.params["task_id"])
        if not path.is_file():
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(200, headers={"Content-Type": "video/mp4"}, file_path=path)


def _header_mismatch(request: Request, content_type: str, file_size: int) -> str | None:
    sent_type = request.headers.get("content-type", "").strip().lower()
    if sent_type != content_type.lower():
        return f"Content-Type {sent_type!r} differs from the declared {content_type!r}"
    if request.content_length != file_size:
        return f"Content-Length {request.content_length} differs from the declared {file_size}"
    return None


def _receive(request: Request, dest: Path, length: int) -> tuple[str, str]:
    """Stream exactly `length` bytes to dest in chunks; returns the MD5 hex digest (S3's ETag) and the SHA-256
    (the ledger counts uploads by content)."""
    request.body_consumed = True
    digest = hashlib.md5(usedforsecurity=False)
    content = hashlib.sha256()
    scratch = dest.with_suffix(".part")
    remaining = length
    with scratch.open("wb") as out:
        while remaining > 0:
            chunk = request.body_stream.read(min(CHUNK, remaining))
            if not chunk:
                scratch.unlink(missing_ok=True)
                raise IncompleteBody
            digest.update(chunk)
            content.update(chunk)
            out.write(chunk)
            remaining -= len(chunk)
    os.replace(scratch, dest)
    return digest.hexdigest(), content.hexdigest()
