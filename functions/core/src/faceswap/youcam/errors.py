"""Typed errors of the YouCam API, one class per vendor error class.

`retryable` answers one question for the pipeline: "may doing the same thing again later succeed?".
The client itself only retries at the HTTP level (429/5xx, see transport.py); everything that reaches the
caller has already used those retries. `what_to_fix` is the sentence the pipeline writes into error.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import requests


class YouCamError(Exception):
    """Base of every error raised by the YouCam client. Not retryable unless a subclass says so."""

    default_code: ClassVar[str] = "YouCamError"
    default_retryable: ClassVar[bool] = False
    what_to_fix: ClassVar[str] = "Inspect the vendor's message; the request was not accepted."

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.http_status = http_status
        self.retryable = self.default_retryable if retryable is None else retryable

    def __str__(self) -> str:
        status = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        return f"{self.code}{status}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready shape the pipeline stores in error.json."""
        return {
            "error_class": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "http_status": self.http_status,
            "retryable": self.retryable,
            "what_to_fix": self.what_to_fix,
        }


class InvalidApiKey(YouCamError):
    """401: the key is missing, wrong or revoked. Final."""

    default_code = "InvalidApiKey"
    what_to_fix = "Put a valid YouCam API key into the API-key secret (the vendor answered 401)."


class InvalidParameters(YouCamError):
    """400 InvalidParameters / BadRequest / InvalidStyle*; also raised locally before any HTTP call. Final."""

    default_code = "InvalidParameters"
    what_to_fix = "Fix the request: the vendor (or the local check) rejected its parameters."


class InsufficientCredit(YouCamError):
    """400 CreditInsufficiency: not enough units for this video. Final until the account is topped up."""

    default_code = "CreditInsufficiency"
    what_to_fix = "Top up the YouCam account's API units (1 unit per 5 s of video), then resubmit."


class RateLimited(YouCamError):
    """429 after all HTTP retries. Retryable: the vendor did not process the request."""

    default_code = "TooManyRequests"
    default_retryable = True
    what_to_fix = "Nothing to fix: the vendor rate-limited us; the job is retried later."

    def __init__(self, message: str, *, retry_after_seconds: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds


class EndpointNotFound(YouCamError):
    """404: the path does not exist at this vendor (the File API's path is unconfirmed; see client.py). Final."""

    default_code = "NotFound"
    what_to_fix = "Check the configured YouCam API paths (YOUCAM_*_PATH) and base URL: the vendor answered 404."


class InvalidTaskId(YouCamError):
    """400 Invalid task ID: unknown, older than 24 h, or expired because it was not polled in time. Final."""

    default_code = "InvalidTaskId"
    what_to_fix = (
        "Resubmit the video: the vendor no longer knows this task (unknown, older than 24 h, or expired "
        "because it was not polled in time; its units may still have been charged)."
    )


class TaskTimedOut(YouCamError):
    """500 TaskTimeout on the status call. Not retryable: a resubmission is a new, billed task."""

    default_code = "TaskTimeout"
    what_to_fix = "The vendor timed out processing this video; try a shorter or smaller video, then resubmit."


class ServerError(YouCamError):
    """5xx after all HTTP retries. Retryable (for create-task see the double-create note in client.py)."""

    default_code = "ServerError"
    default_retryable = True
    what_to_fix = "Nothing to fix on our side: the vendor had a server error; the job is retried later."


class VendorUnreachable(ServerError):
    """No HTTP answer at all (DNS, connect, reset, timeout) after all retries. Retryable."""

    default_code = "VendorUnreachable"
    what_to_fix = "Check network access to the YouCam API (VPC egress, DNS, base URL); the job is retried."


class UnexpectedResponse(YouCamError):
    """A 2xx answer whose body does not have the documented shape (vendor contract change). Final."""

    default_code = "UnexpectedResponse"
    what_to_fix = "The vendor's answer changed shape; update the YouCam client (see the logged response)."


class UploadRejected(YouCamError):
    """The PUT to the presigned upload URL failed, or the source stream broke.

    Retryable for network errors, 408, 429 and 5xx (the whole upload is redone: a consumed stream cannot
    be replayed); final for other 4xx (wrong headers, size mismatch).
    """

    default_code = "UploadRejected"
    what_to_fix = "Resubmit the input; if it keeps failing, check its size and content type."


class ResultDownloadFailed(YouCamError):
    """Fetching the result video failed. Retryable for network errors and 5xx; 403/404 mean the 2-hour URL
    expired: fetch the task again for a fresh URL."""

    default_code = "ResultDownloadFailed"
    what_to_fix = "Fetch the task status again for a fresh result URL (it lives 2 h), then copy it again."


class TaskFailed(YouCamError):
    """The task ended with `task_status: error`. `code` is the engine code (unknown codes are kept). Final."""

    default_code = "unknown_engine_error"
    what_to_fix = "The vendor could not process this video; see the engine code and message."


class NoFaceDetected(TaskFailed):
    """error_no_face / error_pose / error_face_parsing. Final."""

    what_to_fix = "Use a video and a face photo that each show one clear, frontal, well-lit face."


class ContentRejected(TaskFailed):
    """error_nsfw_content_detected / exceed_nsfw_retry_limits. Final."""

    what_to_fix = "The vendor's content filter refused the input; use different media."


class MediaRejected(TaskFailed):
    """Undecodable, unsupported or oversized input, or an invalid engine parameter. Final."""

    what_to_fix = (
        "Re-encode the input: mp4/mov with H.264 or MPEG-4 video, at most 30 s, 4K, 30 fps and 100 MB; "
        "face photo jpg/png at most 10 MB."
    )


class MediaDownloadFailed(TaskFailed):
    """error_download_video / _image / _mask: the vendor could not fetch an input. Final for this task."""

    what_to_fix = "Make the input URLs reachable by the vendor (presigned URLs not expired), then resubmit."


class EngineError(TaskFailed):
    """error_inference / error_upload / unknown_internal_error: a vendor-side fault. Retryable (new task)."""

    default_retryable = True
    what_to_fix = "Nothing to fix on our side: the vendor's engine failed; the job can be resubmitted."


_ENGINE_CODES: Mapping[str, type[TaskFailed]] = {
    "error_no_face": NoFaceDetected,
    "error_pose": NoFaceDetected,
    "error_face_parsing": NoFaceDetected,
    "error_nsfw_content_detected": ContentRejected,
    "exceed_nsfw_retry_limits": ContentRejected,
    "error_decode_video": MediaRejected,
    "error_unsupported_video": MediaRejected,
    "exceed_max_filesize": MediaRejected,
    "error_exceed_max_image_size": MediaRejected,
    "error_decode_image": MediaRejected,
    "error_decode_mask": MediaRejected,
    "invalid_parameter": MediaRejected,
    "error_download_video": MediaDownloadFailed,
    "error_download_image": MediaDownloadFailed,
    "error_download_mask": MediaDownloadFailed,
    "error_inference": EngineError,
    "error_upload": EngineError,
    "unknown_internal_error": EngineError,
}

_BAD_REQUEST_CODES: Mapping[str, type[YouCamError]] = {
    "InvalidParameters": InvalidParameters,
    "BadRequest": InvalidParameters,
    "InvalidStyleGroup": InvalidParameters,
    "InvalidStyle": InvalidParameters,
    "CreditInsufficiency": InsufficientCredit,
    "InvalidTaskId": InvalidTaskId,
}


def task_error_from_code(code: str | None, message: str) -> TaskFailed:
    """The TaskFailed subclass for an engine code; unknown or missing codes give a final TaskFailed."""
    error_class = _ENGINE_CODES.get(code or "", TaskFailed)
    return error_class(message or "task failed", code=code or None)


def error_from_payload(
    http_status: int, payload: Mapping[str, Any], *, method: str = "", retry_after: float | None = None
) -> YouCamError:
    """Map an error status and the vendor's JSON error body to a typed error."""
    vendor_code = payload.get("error_code") if isinstance(payload.get("error_code"), str) else None
    message = str(payload.get("error") or payload.get("message") or f"HTTP {http_status}")
    if http_status == 401:
        return InvalidApiKey(message, code=vendor_code, http_status=http_status)
    if http_status == 429:
        return RateLimited(message, code=vendor_code, http_status=http_status, retry_after_seconds=retry_after)
    if http_status == 400:
        return _bad_request(message, vendor_code, method)
    if http_status == 404:
        return EndpointNotFound(message, code=vendor_code, http_status=http_status)
    if http_status >= 500:
        if vendor_code == "TaskTimeout" or "timed out" in message.lower():
            return TaskTimedOut(message, code=vendor_code, http_status=http_status)
        return ServerError(message, code=vendor_code, http_status=http_status)
    return YouCamError(message, code=vendor_code or f"HTTP{http_status}", http_status=http_status)


def _bad_request(message: str, vendor_code: str | None, method: str) -> YouCamError:
    error_class = _BAD_REQUEST_CODES.get(vendor_code or "")
    if error_class is None:
        # The documented "Invalid task ID" body carries no error_code; it is also the status call's only 400.
        looks_like_task_id = "task id" in message.lower() or "task_id" in message.lower()
        error_class = InvalidTaskId if looks_like_task_id or method.upper() == "GET" else InvalidParameters
    return error_class(message, code=vendor_code, http_status=400)


def error_from_response(resp: requests.Response) -> YouCamError:
    """Map a non-2xx `requests.Response` of the YouCam API to a typed error."""
    try:
        payload = resp.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, Mapping):
        payload = {}
    method = getattr(resp.request, "method", None) or ""
    return error_from_payload(
        resp.status_code, payload, method=method, retry_after=_retry_after(resp.headers.get("Retry-After"))
    )


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: rare for APIs, and the HTTP layer already honoured it
