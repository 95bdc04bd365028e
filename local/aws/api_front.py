"""`ApiFront`: a loopback HTTP server standing in for API Gateway's REST endpoint (moto cannot invoke
AWS_PROXY integrations). Routes come from the deployed template; each request becomes a proxy event for
`lambda.invoke` on moto and the proxy result becomes the HTTP answer.

API Gateway behaviour kept: unknown stage or route -> 403 "Missing Authentication Token"; required request
parameters of a validating method -> 400; body over 10 MB -> 413; function error or malformed result -> 502;
integration timeout (29 s by default) -> 504.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from local.aws.api_events import BAD_GATEWAY, Answer, ApiInfo, HttpRequest, gateway_error, http_response, proxy_event
from local.aws.api_routes import Route, choose, routes_from_template
from local.aws.deploy import DeployedStack
from local.aws.server import ACCOUNT_ID, FAKE_CREDENTIALS, REGION

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_MAX_DRAINED_BYTES = 64 * 1024 * 1024  # beyond this an oversized request just gets the connection closed


class ApiFront:
    def __init__(self, stack: DeployedStack, endpoint_url: str, *, rest_api: str | None = None,
                 region: str = REGION, max_body_bytes: int = MAX_BODY_BYTES, port: int = 0) -> None:
        resources = stack.template["Resources"]
        self.rest_api = rest_api or _only_rest_api(resources)
        self.routes = [r for r in routes_from_template(stack.template) if r.rest_api == self.rest_api]
        self._stack = stack
        self._api = ApiInfo(api_id=stack.resources[self.rest_api], stage=_stage_name(resources, self.rest_api),
                            account_id=ACCOUNT_ID, binary_media_types=tuple(
                                resources[self.rest_api].get("Properties", {}).get("BinaryMediaTypes", [])))
        self._endpoint_url = endpoint_url
        self._region = region
        self._session = boto3.session.Session(
            region_name=region, aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()
        self.max_body_bytes = max_body_bytes
        self._port = port
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status): the access log
        self._server: ThreadingHTTPServer | None = None

    @property
    def stage(self) -> str:
        return self._api.stage

    @property
    def url(self) -> str:
        """The invoke URL with the stage, like the `api.url` output: http://127.0.0.1:PORT/prod/"""
        if self._server is None:
            raise RuntimeError("ApiFront is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/{self.stage}/"

    def url_for(self, path: str) -> str:
        return self.url + path.lstrip("/")

    def __enter__(self) -> ApiFront:
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._server.daemon_threads = True
        self._server.front = self  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, name="api-front", daemon=True).start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, request: HttpRequest) -> Answer:
        chosen = choose(self.routes, request.method, request.path)
        if chosen is None:
            return gateway_error(403, "Missing Authentication Token")
        route, path_params = chosen
        missing = _missing_parameters(route, request)
        if missing:
            return gateway_error(400, f"Missing required request parameters: [{', '.join(missing)}]")
        if route.function is None:
            return gateway_error(500, f"{route.integration_type} integrations are not emulated locally")
        event = proxy_event(request, route, path_params, self._api, self._stack.resources.get(route.resource, ""))
        return self._invoke(self._stack.resources[route.function], event, route.timeout_ms)

    def _lambda_client(self, timeout_ms: int) -> Any:
        with self._clients_lock:  # clients are thread-safe, creating them from one session is not
            if timeout_ms not in self._clients:
                self._clients[timeout_ms] = self._session.client(
                    "lambda", endpoint_url=self._endpoint_url,
                    config=Config(read_timeout=timeout_ms / 1000, retries={"total_max_attempts": 1},
                                  max_pool_connections=50))
            return self._clients[timeout_ms]

    def _invoke(self, function_name: str, event: dict[str, Any], timeout_ms: int) -> Answer:
        try:
            response = self._lambda_client(timeout_ms).invoke(FunctionName=function_name,
                                                              Payload=json.dumps(event).encode())
        except ReadTimeoutError:
            return gateway_error(504, "Endpoint request timed out")
        if response.get("FunctionError"):
            return BAD_GATEWAY
        return http_response(response["Payload"].read())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # the front keeps its own access log
        return None

    def _serve(self) -> None:
        front: ApiFront = self.server.front  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        prefix = f"/{front.stage}"
        if split.path != prefix and not split.path.startswith(prefix + "/"):
            self._discard_body(front)
            return self._reply(gateway_error(403, "Missing Authentication Token"), split.path, front)
        body = self._read_body(front)
        if body is None:
            self.close_connection = True
            return self._reply(gateway_error(413, "Request Entity Too Large"), split.path, front)
        request = HttpRequest(method=self.command, path=split.path[len(prefix):] or "/", query=split.query,
                              headers=list(self.headers.items()), body=body, source_ip=self.client_address[0])
        self._reply(front.answer(request), split.path, front)

    def _read_body(self, front: ApiFront) -> bytes | None:
        """The body, or None when it is over the limit (then read and dropped, so the client gets the 413)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(front.max_body_bytes)
        length = int(self.headers.get("Content-Length") or 0)
        if length <= front.max_body_bytes:
            return self.rfile.read(length)
        remaining = length if length <= _MAX_DRAINED_BYTES else 0
        while remaining > 0 and (chunk := self.rfile.read(min(1 << 20, remaining))):
            remaining -= len(chunk)
        return None

    def _read_chunked(self, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            total += size
            if total > limit:
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(chunks)

    def _discard_body(self, front: ApiFront) -> None:
        if self._read_body(front) is None:
            self.close_connection = True

    def _reply(self, answer: Answer, path: str, front: ApiFront) -> None:
        status, headers, body = answer
        front.requests.append((self.command, path, status))
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:  # the rest of an oversized body was not read: tell the client not to reuse
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _only_rest_api(resources: dict[str, Any]) -> str:
    apis = [lid for lid, r in resources.items() if r["Type"] == "AWS::ApiGateway::RestApi"]
    if len(apis) != 1:
        raise ValueError(f"pass rest_api=: the template has {len(apis)} REST APIs {apis}")
    return apis[0]


def _stage_name(resources: dict[str, Any], rest_api: str) -> str:
    for kind in ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"):
        for resource in resources.values():
            props = resource.get("Properties", {})
            if resource["Type"] == kind and props.get("RestApiId") == {"Ref": rest_api} and "StageName" in props:
                return str(props["StageName"])
    return "prod"


def _missing_parameters(route: Route, request: HttpRequest) -> list[str]:
    header_names = {name.lower() for name, _ in request.headers}
    query_names = {pair.split("=", 1)[0] for pair in request.query.split("&") if pair}
    return ([h for h in route.required_headers if h.lower() not in header_names]
            + [q for q in route.required_query if q not in query_names])
