"""Request-body checks for the File and Task APIs, answering like the vendor (400 + error_code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from local.emulator.config import IMAGE_CONTENT_TYPES, VIDEO_CONTENT_TYPES, Limits
from local.emulator.routing import ApiError
from local.emulator.state import InputRef, Store

TASK_FIELDS = frozenset({"src_file_id", "src_file_url", "ref_file_id", "ref_file_url", "dst_duration"})


def invalid(message: str) -> ApiError:
    return ApiError(400, message, "InvalidParameters")


@dataclass(frozen=True)
class FileSpec:
    content_type: str
    file_name: str
    file_size: int


@dataclass(frozen=True)
class TaskRequest:
    src: InputRef
    ref: InputRef
    dst_duration: int


def _positive_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_file_specs(body: Any, limits: Limits) -> list[FileSpec]:
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list) or not files:
        raise invalid("files must be a non-empty list")
    return [_file_spec(entry, limits) for entry in files]


def _file_spec(entry: Any, limits: Limits) -> FileSpec:
    if not isinstance(entry, dict):
        raise invalid("each file must be an object")
    content_type, name, size = entry.get("content_type"), entry.get("file_name"), entry.get("file_size")
    if not isinstance(name, str) or not name:
        raise invalid("file_name is required")
    if not _positive_int(size):
        raise invalid("file_size must be a positive integer")
    if content_type in VIDEO_CONTENT_TYPES:
        limit = limits.max_video_bytes
    elif content_type in IMAGE_CONTENT_TYPES:
        limit = limits.max_image_bytes
    else:
        raise invalid(f"Unsupported content_type: {content_type!r}")
    if size > limit:
        raise invalid(f"file_size {size} exceeds the {limit} byte limit for {content_type}")
    return FileSpec(str(content_type), name, int(size))


def parse_task_request(body: Any, store: Store, limits: Limits) -> TaskRequest:
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object", "BadRequest")
    unexpected = sorted(set(body) - TASK_FIELDS)
    if unexpected:
        raise ApiError(400, f"Unexpected request parameter: {', '.join(unexpected)}", "BadRequest")
    src = _input(body, "src", store, want_video=True)
    ref = _input(body, "ref", store, want_video=False)
    duration = body.get("dst_duration")
    if duration is None:
        raise invalid("dst_duration is required")
    if not _positive_int(duration):
        raise invalid("dst_duration must be a positive integer (seconds)")
    if duration > limits.max_video_seconds:
        raise invalid(f"dst_duration {duration} exceeds {limits.max_video_seconds:g} seconds")
    return TaskRequest(src, ref, duration)


def _input(body: dict[str, Any], prefix: str, store: Store, want_video: bool) -> InputRef:
    file_id, url = body.get(f"{prefix}_file_id"), body.get(f"{prefix}_file_url")
    if (file_id is None) == (url is None):
        raise invalid(f"exactly one of {prefix}_file_id and {prefix}_file_url is required")
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise invalid(f"{prefix}_file_url must be an http(s) URL")
        return InputRef(url=url)
    record = store.file(file_id) if isinstance(file_id, str) else None
    if record is None:
        raise invalid(f"{prefix}_file_id is not a known file")
    if record.is_video != want_video:
        raise invalid(f"{prefix}_file_id must be {'a video' if want_video else 'an image'}")
    return InputRef(file_id=file_id)
