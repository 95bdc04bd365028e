"""/_emulator/* endpoints: fault switches, inspection and reset over HTTP (for out-of-process drivers)."""

from __future__ import annotations

from typing import Any, Protocol

from local.emulator.routing import ApiError, Request, Response, RouteKind, Router, json_response


class Controllable(Protocol):
    def set_faults(self, **changes: Any) -> None: ...
    def faults_dict(self) -> dict[str, Any]: ...
    def stats(self) -> dict[str, Any]: ...
    def reset(self) -> None: ...
    def add_webhook_url(self, url: str) -> None: ...
    def expire_task(self, task_id: str) -> None: ...
    def advance_clock(self, seconds: float) -> float: ...
    def clock_offset(self) -> float: ...


class ControlEndpoints:
    def __init__(self, target: Controllable) -> None:
        self._target = target

    def register(self, router: Router) -> None:
        router.add("GET", "/_emulator/faults", RouteKind.CONTROL, self.get_faults)
        router.add("POST", "/_emulator/faults", RouteKind.CONTROL, self.set_faults)
        router.add("GET", "/_emulator/stats", RouteKind.CONTROL, self.stats)
        router.add("POST", "/_emulator/reset", RouteKind.CONTROL, self.reset)
        router.add("POST", "/_emulator/webhook-urls", RouteKind.CONTROL, self.add_webhook_url)
        router.add("POST", "/_emulator/tasks/{task_id}/expire", RouteKind.CONTROL, self.expire_task)
        router.add("GET", "/_emulator/clock", RouteKind.CONTROL, self.clock)
        router.add("POST", "/_emulator/clock", RouteKind.CONTROL, self.advance_clock)

    def get_faults(self, request: Request) -> Response:
        return json_response(200, self._target.faults_dict())

    def set_faults(self, request: Request) -> Response:
        changes = request.json()
        if not isinstance(changes, dict):
            raise ApiError(400, "expected a JSON object of fault switches", "InvalidParameters")
        try:
            self._target.set_faults(**changes)
        except ValueError as exc:
            raise ApiError(400, str(exc), "InvalidParameters") from exc
        return json_response(200, self._target.faults_dict())

    def stats(self, request: Request) -> Response:
        return json_response(200, self._target.stats())

    def reset(self, request: Request) -> Response:
        self._target.reset()
        return json_response(200, {"reset": True})

    def add_webhook_url(self, request: Request) -> Response:
        body = request.json()
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ApiError(400, 'expected {"url": "http(s)://..."}', "InvalidParameters")
        self._target.add_webhook_url(url)
        return json_response(200, {"webhook_urls": self._target.stats()["webhook_urls"]})

    def expire_task(self, request: Request) -> Response:
        self._target.expire_task(request.params["task_id"])
        return json_response(200, {"expired": request.params["task_id"]})

    def clock(self, request: Request) -> Response:
        return json_response(200, {"offset_seconds": self._target.clock_offset()})

    def advance_clock(self, request: Request) -> Response:
        body = request.json()
        seconds = body.get("advance_seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
            raise ApiError(400, 'expected {"advance_seconds": <seconds >= 0>}', "InvalidParameters")
        return json_response(200, {"offset_seconds": self._target.advance_clock(float(seconds))})
