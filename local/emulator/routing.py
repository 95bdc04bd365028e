"""A small request/response model and a router over path templates such as /task/{task_id}."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape


class RouteKind(Enum):
    VENDOR = "vendor"  # the emulated YouCam API: auth, 429/5xx injection, slow responses
    BLOB = "blob"  # presigned upload/result URLs: signature auth, slow responses
    CONTROL = "control"  # /_emulator/*: never faulted


class BadRequestBody(Exception):
    pass


class ApiError(Exception):
    """Raised by handlers; answered with the vendor's error body."""

    def __init__(self, status: int, message: str, error_code: str | None = None,
                 retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.retry_after_seconds = retry_after_seconds

    def response(self) -> Response:
        answer = api_error(self.status, self.message, self.error_code)
        if self.retry_after_seconds is not None:
            answer.headers["Retry-After"] = str(self.retry_after_seconds)
        return answer


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body_stream: Readable
    params: dict[str, str] = field(default_factory=dict)
    body_consumed: bool = False

    @property
    def content_length(self) -> int | None:
        raw = self.headers.get("content-length")
        return int(raw) if raw is not None and raw.strip().isdigit() else None

    def read_body(self, max_bytes: int = 1024 * 1024) -> bytes:
        length = self.content_length or 0
        if length > max_bytes:
            raise BadRequestBody(f"body larger than {max_bytes} bytes")
        self.body_consumed = True
        return self.body_stream.read(length) if length else b""

    def json(self) -> Any:
        try:
            return json.loads(self.read_body() or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequestBody(f"invalid JSON body: {exc}") from exc


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file_path: Path | None = None  # streamed from disk instead of body


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


def api_error(status: int, message: str, error_code: str | None = None) -> Response:
    """The vendor's error body: {"status": N, "error": "...", "error_code": "..."} (code omitted on 401/429)."""
    payload: dict[str, Any] = {"status": status, "error": message}
    if error_code is not None:
        payload["error_code"] = error_code
    return json_response(status, payload)


def s3_error(status: int, code: str, message: str) -> Response:
    """What an S3 presigned URL answers when refused."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()
    return Response(status, body, {"Content-Type": "application/xml"})


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    kind: RouteKind
    handler: Handler
    pattern: re.Pattern[str]

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+?)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, template: str, kind: RouteKind, handler: Handler) -> None:
        self._routes.append(Route(method, template, kind, handler, _compile(template)))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path params, path_exists): path_exists without a route means 405."""
        path_exists = False
        for route in self._routes:
            found = route.pattern.match(path)
            if not found:
                continue
            path_exists = True
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict(), True
        return None, {}, path_exists
