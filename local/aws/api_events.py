"""API Gateway REST API Lambda proxy integration, both directions: the version 1.0 event built from an HTTP
request, and the HTTP response built from the function's proxy result."""

from __future__ import annotations

import base64
import datetime
import fnmatch
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from local.aws.api_routes import Route

Headers = list[tuple[str, str]]
Answer = tuple[int, Headers, bytes]
BAD_GATEWAY: Answer = (502, [("Content-Type", "application/json"),
                             ("x-amzn-ErrorType", "InternalServerErrorException")],
                       b'{"message": "Internal server error"}')


@dataclass
class HttpRequest:
    method: str
    path: str  # below the stage, e.g. "/hook"
    query: str
    headers: list[tuple[str, str]]  # in arrival order, names as sent
    body: bytes
    source_ip: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class ApiInfo:
    api_id: str  # physical id of the RestApi
    stage: str
    account_id: str
    binary_media_types: tuple[str, ...] = ()


def proxy_event(request: HttpRequest, route: Route, path_params: dict[str, str], api: ApiInfo,
                resource_id: str) -> dict[str, Any]:
    headers, multi_headers = _single_and_multi(request.headers)
    query, multi_query = _single_and_multi(parse_qsl(request.query, keep_blank_values=True))
    body, is_base64 = _body(request, headers, api.binary_media_types)
    host = headers.get("Host", headers.get("host", "localhost"))
    now = time.time()
    return {
        "resource": route.path, "path": request.path, "httpMethod": request.method,
        "headers": headers or None, "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None, "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None, "stageVariables": None,
        "requestContext": {
            "resourceId": resource_id, "resourcePath": route.path, "httpMethod": request.method,
            "extendedRequestId": request.request_id, "requestId": request.request_id,
            "requestTime": datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now * 1000), "path": f"/{api.stage}{request.path}", "protocol": "HTTP/1.1",
            "stage": api.stage, "accountId": api.account_id, "apiId": api.api_id,
            "domainName": host, "domainPrefix": host.split(".")[0],
            "identity": {"sourceIp": request.source_ip, "userAgent": headers.get("User-Agent"),
                         "accessKey": None, "accountId": None, "caller": None, "user": None, "userArn": None,
                         "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                         "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None},
        },
        "body": body, "isBase64Encoded": is_base64,
    }


def http_response(payload: bytes) -> Answer:
    """The HTTP answer for a proxy result; 502 like API Gateway when the result is malformed."""
    try:
        result = json.loads(payload)
        status = int(result["statusCode"])
    except (ValueError, TypeError, KeyError):
        return BAD_GATEWAY
    multi = result.get("multiValueHeaders") or {}
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items() if k not in multi]
    headers += [(str(k), str(v)) for k, values in multi.items() for v in values]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body = result.get("body") or ""
    if not isinstance(body, str):
        return BAD_GATEWAY
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return status, headers, data


def gateway_error(status: int, message: str) -> Answer:
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", _error_type(status))]
    return status, headers, json.dumps({"message": message}).encode()


def _error_type(status: int) -> str:
    known = {400: "BadRequestException", 403: "MissingAuthenticationTokenException",
             413: "RequestEntityTooLargeException", 504: "IntegrationTimeout"}
    return known.get(status, "InternalServerErrorException")


def _single_and_multi(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # API Gateway keeps the last value in the single-value map
        multi.setdefault(name, []).append(value)
    return single, multi


def _body(request: HttpRequest, headers: dict[str, str], binary_types: Sequence[str]) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "").split(";")[0].strip()
    if content_type and any(fnmatch.fnmatch(content_type, pattern) for pattern in binary_types):
        return base64.b64encode(request.body).decode(), True
    return request.body.decode("utf-8", errors="replace"), False
