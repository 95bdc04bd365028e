"""What the YouCam API answers, as frozen dataclasses parsed from its JSON bodies.

Parsing is strict about what we rely on (ids, URLs, status) and raises UnexpectedResponse when the vendor's
answer changes shape, so that a contract change surfaces as one clear error instead of a KeyError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from faceswap.youcam.errors import UnexpectedResponse, task_error_from_code
from faceswap.youcam.result_url import find_result_url

TaskState = Literal["running", "success", "error"]
POLLING_INTERVAL_UNITS = ("s", "ms", "auto")
# With unit "auto", a polling_interval above this is read as milliseconds (no task is polled every 5+ min).
AUTO_MILLISECONDS_ABOVE = 300.0


@dataclass(frozen=True)
class UploadTicket:
    """Where and how to send the bytes of one registered file (a presigned URL and its required headers)."""

    file_id: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "PUT"

    @classmethod
    def from_api(cls, body: Any) -> UploadTicket:
        files = _data(body).get("files")
        if not isinstance(files, list) or not files or not isinstance(files[0], Mapping):
            raise UnexpectedResponse("file registration answer has no data.files[0]")
        entry = files[0]
        requests_ = entry.get("requests")
        if not isinstance(requests_, list) or not requests_ or not isinstance(requests_[0], Mapping):
            raise UnexpectedResponse("file registration answer has no data.files[0].requests[0]")
        upload = requests_[0]
        headers = upload.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise UnexpectedResponse("upload headers are not an object")
        return cls(
            file_id=_required_str(entry, "file_id"),
            url=_required_str(upload, "url"),
            headers={str(name): str(value) for name, value in headers.items()},
            method=str(upload.get("method") or "PUT").upper(),
        )


@dataclass(frozen=True)
class CreatedTask:
    """A task the vendor accepted. `polling_interval_seconds` is None unless the vendor sent one."""

    task_id: str
    polling_interval_seconds: float | None = None

    @classmethod
    def from_api(cls, body: Any, *, polling_interval_unit: str = "auto") -> CreatedTask:
        data = _data(body)
        return cls(
            task_id=_required_str(data, "task_id"),
            polling_interval_seconds=parse_polling_interval(data.get("polling_interval"), polling_interval_unit),
        )


@dataclass(frozen=True)
class TaskStatus:
    """One answer of the status call. The API's status is the truth (webhooks only hint at it)."""

    task_id: str
    status: TaskState
    error_code: str | None = None
    error_message: str | None = None
    result_url: str | None = None
    polling_interval_seconds: float | None = None

    @property
    def is_final(self) -> bool:
        return self.status in ("success", "error")

    @property
    def succeeded(self) -> bool:
        return self.status == "success"

    def raise_for_error(self) -> None:
        """Raise the TaskFailed subclass of the engine code when the task ended in error; else do nothing."""
        if self.status == "error":
            raise task_error_from_code(self.error_code, self.error_message or "task failed")

    @classmethod
    def from_api(cls, task_id: str, body: Any, *, polling_interval_unit: str = "auto") -> TaskStatus:
        data = _data(body)
        status = _task_state(data.get("task_status"))
        result_url = find_result_url(body) if status == "success" else None
        if status == "success" and not result_url:
            raise UnexpectedResponse(f"task {task_id} succeeded but its answer carries no result URL")
        return cls(
            task_id=task_id,
            status=status,
            error_code=_optional_str(data.get("error")),
            error_message=_optional_str(data.get("error_message")),
            result_url=result_url,
            polling_interval_seconds=parse_polling_interval(data.get("polling_interval"), polling_interval_unit),
        )


@dataclass(frozen=True)
class CreditEntry:
    """One unit lot of the credit answer. `units` is `amount_dec` (two decimals) when present, else the
    deprecated integer `amount` (unit-system OpenAPI: "This paramenter is deprecated. Use amount_dec instead")."""

    type: str
    units: float
    expiry_ms: int | None = None

    @property
    def spendable_by_api(self) -> bool:
        # As the vendor's own client counts them (YouCam-API/skills youcam_api.get_credits: api_spendable_prefix).
        return self.type.startswith("Api")


@dataclass(frozen=True)
class CreditBalance:
    """The credit answer: every entry, and the units the API may spend."""

    entries: tuple[CreditEntry, ...]

    @property
    def spendable_units(self) -> float:
        return round(sum(entry.units for entry in self.entries if entry.spendable_by_api), 2)

    @classmethod
    def from_api(cls, body: Any) -> CreditBalance:
        results = body.get("results") if isinstance(body, Mapping) else None
        if not isinstance(results, list):
            raise UnexpectedResponse("credit answer has no 'results' list")
        return cls(tuple(_credit_entry(entry) for entry in results))


def _credit_entry(entry: Any) -> CreditEntry:
    if not isinstance(entry, Mapping):
        raise UnexpectedResponse("credit entry is not an object")
    units = _number(entry.get("amount_dec"))
    if units is None:
        units = _number(entry.get("amount"))
    if units is None:
        raise UnexpectedResponse("credit entry has no numeric 'amount_dec' or 'amount'")
    expiry = entry.get("expiry")
    return CreditEntry(type=str(entry.get("type") or ""), units=units,
                       expiry_ms=expiry if isinstance(expiry, int) and not isinstance(expiry, bool) else None)


def _number(value: Any) -> float | None:
    """A finite number, also from a numeric string ("10.04"); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_polling_interval(value: Any, unit: str) -> float | None:
    """Seconds from a vendor `polling_interval` (unit unconfirmed: "s", "ms", or "auto"); None if absent/bad.

    "auto" reads values above 300 as milliseconds: 5 means 5 s, 5000 means 5 s too.
    """
    if unit not in POLLING_INTERVAL_UNITS:
        raise ValueError(f"polling_interval_unit must be one of {POLLING_INTERVAL_UNITS}, not {unit!r}")
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    if unit == "ms" or (unit == "auto" and number > AUTO_MILLISECONDS_ABOVE):
        number /= 1000.0
    return number


def _data(body: Any) -> Mapping[str, Any]:
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping):
        raise UnexpectedResponse("answer has no 'data' object")
    return data


def _required_str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise UnexpectedResponse(f"answer has no '{key}' string")
    return value


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _task_state(value: Any) -> TaskState:
    if value in ("success", "error"):
        return cast(TaskState, value)
    if isinstance(value, str) and value:
        # "running" and any undocumented in-between state ("queued", "pending"...) mean: poll again.
        return "running"
    raise UnexpectedResponse("answer has no data.task_status")
