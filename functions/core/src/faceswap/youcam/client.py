"""YouCamClient: the calls the pipeline makes to the YouCam AI Video Face Swap API.

Every call has explicit (connect, read) timeouts; HTTP-level retries follow transport.py; whatever is still
an error afterwards is raised as a typed YouCamError. The API key is only ever put in the Authorization
header of API calls (never on the presigned upload/result URLs) and is never logged or shown in repr().

Double-create risk: `create_task` is not idempotent. A 429 is retried (the vendor did no work); a 5xx or a
lost answer is retried only if `settings.retry_create_on_server_error` is set, because the vendor may have
created the task anyway and a retry would create and bill a second one. With the default (off) such a
failure surfaces as ServerError/VendorUnreachable, and the pipeline decides whether to resubmit.

Where the vendor's documents are unclear the client tolerates instead of failing after units are spent: the
result URL is searched for (result_url.py), the declared content type comes from the bytes (content_types.py),
and the File API path falls back to the other known one on a 404 (the seed's feature path and the generic path
of the File OpenAPI and the vendor's own client), remembering the one that answered.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import requests

from faceswap.config import DEFAULT_FILE_PATH, GENERIC_FILE_PATH, VendorSettings
from faceswap.youcam.content_types import HEAD_BYTES, declared_content_type
from faceswap.youcam.errors import (
    EndpointNotFound,
    InvalidParameters,
    ResultDownloadFailed,
    UnexpectedResponse,
    UploadRejected,
    VendorUnreachable,
    error_from_payload,
    error_from_response,
)
from faceswap.youcam.models import POLLING_INTERVAL_UNITS, CreatedTask, CreditBalance, TaskStatus, UploadTicket
from faceswap.youcam.streaming import HeadFirst, Readable, ResultDownload, SizedChunkStream, read_head
from faceswap.youcam.transport import new_session

logger = logging.getLogger(__name__)

USER_AGENT = "faceswap-pipeline/0.1 (youcam-client)"
# Task ids are URL-safe base64-like strings; keep '+' and '=' literal, escape anything else (e.g. '/').
_TASK_ID_SAFE = "+=-_.~"
KNOWN_FILE_PATHS = (DEFAULT_FILE_PATH, GENERIC_FILE_PATH)


class YouCamClient:
    """Typed client. `settings` defaults to VendorSettings.from_env(); `session` lets a caller share a
    connection pool (the client mounts its retrying adapters on it)."""

    def __init__(
        self,
        api_key: str,
        settings: VendorSettings | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("api_key is empty")
        self._settings = settings or VendorSettings.from_env()
        if self._settings.polling_interval_unit not in POLLING_INTERVAL_UNITS:
            raise ValueError(f"polling_interval_unit must be one of {POLLING_INTERVAL_UNITS}")
        self._auth = {"Authorization": f"Bearer {api_key.strip()}", "User-Agent": USER_AGENT}
        self._session = new_session(self._settings, session)
        self._base_url = self._settings.base_url.rstrip("/")
        self._file_path = self._settings.file_path  # the File API path that answered last

    @property
    def file_path(self) -> str:
        """The File API path in use: the configured one until it answered 404 and the other one did not."""
        return self._file_path

    @property
    def server_error_means_not_created(self) -> bool:
        """Deployed with faceswap:retry_create_on_server_error: a 5xx on create is taken to mean "not created"."""
        return self._settings.retry_create_on_server_error

    def __repr__(self) -> str:
        return f"YouCamClient(base_url={self._base_url!r})"

    @property
    def settings(self) -> VendorSettings:
        return self._settings

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> YouCamClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- calls -------------------------------------------------------------------------------------

    def register_file(self, *, content_type: str, file_name: str, file_size: int) -> UploadTicket:
        """Announce a file; the answer says where to PUT its bytes."""
        body = {"files": [{"content_type": content_type, "file_name": file_name, "file_size": file_size}]}
        return UploadTicket.from_api(self._post_file_api(body))

    def upload(self, stream: Readable, *, size: int, file_name: str, content_type: str | None = None) -> str:
        """Register a file and stream `size` bytes of `stream` to its upload URL; returns the file_id.

        The declared content type comes from the first bytes (JPEG/PNG magic, the MP4/QuickTime box), a
        QuickTime file being declared as `settings.mov_content_type`; `content_type` (else the file name) is
        only used when the bytes say nothing. The body is read in `settings.transfer_chunk_bytes` pieces and
        sent with Content-Length; it is never read whole nor written to disk. The PUT is not retried (the stream
        is consumed): on UploadRejected with retryable=True, reopen the source and call upload() again.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise InvalidParameters("size must be a positive number of bytes")
        if not file_name:
            raise InvalidParameters("file_name is required")
        head = read_head(stream, min(HEAD_BYTES, size))
        declared = declared_content_type(head, file_name, mov_content_type=self._settings.mov_content_type,
                                         hint=content_type)
        ticket = self.register_file(content_type=declared, file_name=file_name, file_size=size)
        self.put_file(ticket, HeadFirst(head, stream), size=size)
        return ticket.file_id

    def put_file(self, ticket: UploadTicket, stream: Readable, *, size: int) -> None:
        """Send the bytes to the presigned URL with exactly the headers the vendor returned."""
        declared = {name.lower(): value for name, value in ticket.headers.items()}.get("content-length")
        if declared is not None and declared.strip() != str(size):
            raise UploadRejected(f"upload URL expects {declared} bytes, the stream has {size}")
        body = SizedChunkStream(stream, size, self._settings.transfer_chunk_bytes)
        timeout = (self._settings.connect_timeout_seconds, self._settings.upload_timeout_seconds)
        try:
            resp = self._session.request(
                ticket.method, ticket.url, data=body, headers=dict(ticket.headers), timeout=timeout
            )
        except requests.RequestException as exc:
            raise UploadRejected(f"upload failed: {type(exc).__name__}", retryable=True) from exc
        with resp:
            if not resp.ok:
                status = resp.status_code
                raise UploadRejected(
                    f"upload URL answered HTTP {status}",
                    http_status=status,
                    retryable=status >= 500 or status in (408, 429),
                )
        logger.debug("uploaded %d bytes for file %s", body.bytes_sent, ticket.file_id)

    def create_task(
        self,
        *,
        src_file_id: str | None = None,
        src_file_url: str | None = None,
        ref_file_id: str | None = None,
        ref_file_url: str | None = None,
        dst_duration: int,
    ) -> CreatedTask:
        """Start a face swap: exactly one video source, exactly one face (each an uploaded file id or an http(s)
        URL the vendor fetches itself, e.g. a presigned S3 GET), and the video length in seconds."""
        body: dict[str, Any] = {
            **_exactly_one("src_file_id", src_file_id, "src_file_url", src_file_url),
            **_exactly_one("ref_file_id", ref_file_id, "ref_file_url", ref_file_url),
        }
        if isinstance(dst_duration, bool) or not isinstance(dst_duration, int) or dst_duration <= 0:
            raise InvalidParameters("dst_duration must be a positive whole number of seconds")
        body["dst_duration"] = dst_duration
        answer = self._call("POST", self._settings.task_path, json=body)
        return CreatedTask.from_api(answer, polling_interval_unit=self._settings.polling_interval_unit)

    def get_task(self, task_id: str) -> TaskStatus:
        """One status poll. Raises InvalidTaskId / TaskTimedOut; a failed task is returned, not raised
        (call `.raise_for_error()`)."""
        if not task_id or not isinstance(task_id, str):
            raise InvalidParameters("task_id is empty")
        path = f"{self._settings.task_path.rstrip('/')}/{quote(task_id, safe=_TASK_ID_SAFE)}"
        answer = self._call("GET", path)
        unit = self._settings.polling_interval_unit
        return TaskStatus.from_api(task_id, answer, polling_interval_unit=unit)

    @contextlib.contextmanager
    def open_result(self, url: str) -> Iterator[ResultDownload]:
        """Stream the result video (its URL lives 2 h). Use as `with client.open_result(url) as result:`."""
        timeout = (self._settings.connect_timeout_seconds, self._settings.read_timeout_seconds)
        # identity: keep Content-Length meaningful and the bytes as stored.
        headers = {"Accept-Encoding": "identity"}
        try:
            resp = self._session.get(url, stream=True, timeout=timeout, headers=headers)
        except requests.RequestException as exc:
            message = f"result download failed: {type(exc).__name__}"
            raise ResultDownloadFailed(message, retryable=True) from exc
        if not resp.ok:
            resp.close()
            status = resp.status_code
            raise ResultDownloadFailed(
                f"result URL answered HTTP {status}", http_status=status, retryable=status >= 500
            )
        with ResultDownload(resp) as download:  # closing it closes the connection too
            yield download

    def credit_balance(self) -> float:
        """Spendable units, for a credit check before uploading: the lots whose type starts with "Api" (as the
        vendor's own client counts them), each read from `amount_dec` (two decimals), else the deprecated
        integer `amount`."""
        return self.credit().spendable_units

    def credit(self) -> CreditBalance:
        """Every unit lot of the account, with its type and expiry."""
        return CreditBalance.from_api(self._call("GET", self._settings.credit_path))

    # --- plumbing ----------------------------------------------------------------------------------

    def _post_file_api(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """POST to the File API path in use; on a 404 try the other known path, and keep to the one that answers."""
        paths = [self._file_path, *(p for p in (self._settings.file_path, *KNOWN_FILE_PATHS) if p != self._file_path)]
        tried: list[str] = []
        for path in dict.fromkeys(paths):
            try:
                answer = self._call("POST", path, json=body)
            except EndpointNotFound:
                tried.append(path)
                logger.warning("File API path %s answered 404; trying the next known path", path)
                continue
            self._file_path = path
            return answer
        raise EndpointNotFound(f"no File API path answered: {', '.join(tried)} all 404", http_status=404)

    def _call(self, method: str, path: str, *, json: Any = None) -> Mapping[str, Any]:
        timeout = (self._settings.connect_timeout_seconds, self._settings.read_timeout_seconds)
        try:
            resp = self._session.request(method, self._base_url + path, json=json, headers=self._auth, timeout=timeout)
        except requests.RequestException as exc:
            raise VendorUnreachable(f"{method} {path}: {type(exc).__name__}") from exc
        with resp:
            logger.debug("%s %s -> %d", method, path, resp.status_code)
            if not resp.ok:
                raise error_from_response(resp)
            return _json_object(resp, method)


def _json_object(resp: requests.Response, method: str) -> Mapping[str, Any]:
    try:
        body = resp.json()
    except ValueError as exc:
        raise UnexpectedResponse(f"HTTP {resp.status_code} answer is not JSON") from exc
    if not isinstance(body, Mapping):
        raise UnexpectedResponse("answer is not a JSON object")
    # The body repeats the status; trust an error there even under HTTP 200.
    status = body.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        raise error_from_payload(status, body, method=method)
    return body


def _exactly_one(id_name: str, id_value: str | None, url_name: str, url_value: str | None) -> dict[str, str]:
    given = {name: value for name, value in ((id_name, id_value), (url_name, url_value)) if value}
    if len(given) != 1:
        raise InvalidParameters(f"give exactly one of {id_name} and {url_name}")
    if url_value and not url_value.lower().startswith(("https://", "http://")):
        raise InvalidParameters(f"{url_name} must be an http(s) URL the vendor can fetch")
    return given
