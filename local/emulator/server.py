"""The HTTP front: a threaded stdlib server that turns sockets into Requests and applies the
cross-cutting behaviour (fault injection, API-key auth, slow answers, request counting) around the routes."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from local.emulator.faults import Dice, Faults
from local.emulator.metrics import RequestMetrics
from local.emulator.routing import ApiError, BadRequestBody, Request, Response, Route, RouteKind, Router, api_error

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# Unread request bodies up to this size are drained so the connection stays usable; larger ones close it.
DRAIN_LIMIT = 256 * 1024 * 1024


class Dispatcher:
    def __init__(
        self, router: Router, faults: Faults, dice: Dice, metrics: RequestMetrics, api_key: str
    ) -> None:
        self.router = router
        self.faults = faults
        self.dice = dice
        self.metrics = metrics
        self.api_key = api_key
        self._late_lock = threading.Lock()

    def dispatch(self, request: Request) -> Response:
        route, params, path_exists = self.router.match(request.method, request.path)
        if route is None:
            response = (
                api_error(405, "Method not allowed") if path_exists else api_error(404, "Not found")
            )
            self.metrics.record(f"{request.method} <unmatched>", response.status)
            return response
        request.params = params
        response = self._guarded(route, request)
        if route.kind is not RouteKind.CONTROL:  # keep the counters about the traffic under test
            self.metrics.record(route.name, response.status)
        return response

    def _guarded(self, route: Route, request: Request) -> Response:
        if route.kind is not RouteKind.CONTROL and self.faults.slow_seconds > 0:
            time.sleep(self.faults.slow_seconds)
        if route.kind is RouteKind.VENDOR:
            refused = self._injected_failure(route) or self._unauthorized(request)
            if refused is not None:
                return refused
        try:
            response = route.handler(request)
            self._answer_late(route)
            return response
        except ApiError as exc:
            return exc.response()
        except BadRequestBody as exc:
            return api_error(400, str(exc), "BadRequest")
        except Exception:
            log.exception("handler for %s failed", route.name)
            return api_error(500, "Internal server error")

    def _injected_failure(self, route: Route) -> Response | None:
        # Injected before any work, so a refused call has no side effect (nothing created or charged).
        prefix = self.faults.fault_route_prefix
        if prefix is not None and not route.name.startswith(prefix):
            return None
        if self.dice.roll(self.faults.rate_429):
            response = api_error(429, "Too many requests")
            response.headers["Retry-After"] = str(self.faults.retry_after_seconds)
            return response
        if self.dice.roll(self.faults.rate_5xx):
            status = self.faults.status_5xx
            return api_error(status, HTTPStatus(status).phrase)
        return None

    def _answer_late(self, route: Route) -> None:
        prefix = self.faults.fault_route_prefix
        if route.kind is not RouteKind.VENDOR or (prefix is not None and not route.name.startswith(prefix)):
            return
        with self._late_lock:  # counting down late_answer_count; the last one switches the fault off
            delay, count = self.faults.late_answer_seconds, self.faults.late_answer_count
            if delay <= 0 or (count is not None and count <= 0):
                return
            if count is not None:
                self.faults.late_answer_count = count - 1
                if count == 1:
                    self.faults.late_answer_seconds, self.faults.late_answer_count = 0.0, None
        time.sleep(delay)

    def _unauthorized(self, request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if self.faults.reject_api_key or scheme.lower() != "bearer" or key.strip() != self.api_key:
            return api_error(401, "Invalid API key")
        return None


class EmulatorHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        super().__init__(address, _HttpHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that closes a keep-alive connection with an unread answer resets it: not the emulator's error.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            log.debug("client %s reset the connection", client_address)
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def serve_in_background(self) -> threading.Thread:
        # A short poll interval keeps stop() fast (shutdown waits for the next poll).
        thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="emulator-http", daemon=True)
        thread.start()
        return thread


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "YouCamEmulator/1.0"
    timeout = 120  # seconds a silent client may hold a connection
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    server: EmulatorHttpServer

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(url.path),
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body_stream=self.rfile,
        )
        response = self.server.dispatcher.dispatch(request)
        self._discard_unread_body(request)
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _discard_unread_body(self, request: Request) -> None:
        if request.body_consumed:
            return
        length = request.content_length
        if request.headers.get("transfer-encoding") or (length or 0) > DRAIN_LIMIT:
            self.close_connection = True
            return
        remaining = length or 0
        while remaining > 0:
            chunk = self.rfile.read(min(CHUNK, remaining))
            if not chunk:
                self.close_connection = True
                return
            remaining -= len(chunk)

    def _send(self, response: Response) -> None:
        length = response.file_path.stat().st_size if response.file_path else len(response.body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.file_path is None:
            self.wfile.write(response.body)
            return
        with response.file_path.open("rb") as source:
            shutil.copyfileobj(source, self.wfile, CHUNK)
