"""The API front turns HTTP requests into REST API proxy events and proxy results into answers."""

from __future__ import annotations

import base64

import requests

from local.aws.api_routes import Route, choose, match_path
from local.aws.stack import LocalStack


def test_proxy_event_carries_the_request(aws: LocalStack) -> None:
    response = requests.get(aws.api.url_for("/a/b?x=1&x=2&y="), headers={"X-Custom": "v"}, timeout=10)
    assert response.status_code == 201 and response.headers["X-Probe"] == "1"
    event = response.json()
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/{proxy+}", "/a/b", "GET")
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["headers"]["X-Custom"] == "v" and event["body"] is None
    context = event["requestContext"]
    assert (context["stage"], context["path"], context["resourcePath"]) == ("prod", "/prod/a/b", "/{proxy+}")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["apiId"] == aws.deployed.resources[aws.api.rest_api]
    assert aws.api.url.endswith("/prod/") and aws.api.url_for("/x") == aws.api.url + "x"


def test_bodies_are_text_or_base64_by_media_type(aws: LocalStack) -> None:
    text = requests.post(aws.api.url_for("/items"), json={"k": "é"}, timeout=10).json()
    assert (text["body"], text["isBase64Encoded"]) == ('{"k": "\\u00e9"}', False)
    raw = bytes(range(256))
    binary = requests.put(aws.api.url_for("/blob"), data=raw, timeout=10,
                          headers={"Content-Type": "application/octet-stream"}).json()
    assert binary["isBase64Encoded"] and base64.b64decode(binary["body"]) == raw


def test_base64_results_are_decoded(aws: LocalStack) -> None:
    response = requests.get(aws.api.url_for("/file.bin"), timeout=10)
    assert response.content == bytes(range(256))
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_api_gateway_errors(aws: LocalStack) -> None:
    root = aws.api.url.rsplit("/prod/", 1)[0]
    assert requests.get(f"{root}/other/x", timeout=10).status_code == 403  # unknown stage
    unrouted = requests.get(aws.api.url, timeout=10)  # no method on "/"
    assert (unrouted.status_code, unrouted.json()) == (403, {"message": "Missing Authentication Token"})
    missing = requests.post(aws.api.url_for("/hook"), json={}, timeout=10)
    assert (missing.status_code, missing.json()) == (
        400, {"message": "Missing required request parameters: [x-signature]"})
    failing = requests.get(aws.api.url_for("/boom"), timeout=10)
    assert (failing.status_code, failing.json()) == (502, {"message": "Internal server error"})
    too_large = requests.post(aws.api.url_for("/big"), data=b"x" * (aws.api.max_body_bytes + 1), timeout=30)
    assert too_large.status_code == 413
    assert too_large.headers["Connection"] == "close"  # the body was not all read: the connection is not reused


def test_integration_timeout_answers_504(aws: LocalStack) -> None:
    response = requests.get(aws.api.url_for("/slow"), timeout=10)  # 1 s integration timeout, 1.5 s handler
    assert (response.status_code, response.json()) == (504, {"message": "Endpoint request timed out"})


def test_route_choice_prefers_the_most_specific() -> None:
    def route(path: str, method: str = "ANY") -> Route:
        return Route("Api", path, path, method, "Fn", "AWS_PROXY", 29000)

    routes = [route("/{proxy+}"), route("/items/{id}"), route("/items/special"), route("/items/{id}", "GET")]
    assert choose(routes, "GET", "/items/special") == (routes[2], {})
    assert choose(routes, "GET", "/items/7") == (routes[3], {"id": "7"})
    assert choose(routes, "POST", "/items/7") == (routes[1], {"id": "7"})
    assert choose(routes, "GET", "/x/y/z") == (routes[0], {"proxy": "x/y/z"})
    assert choose(routes, "GET", "/") is None
    assert match_path("/a/{b}", "/a") is None and match_path("/a", "/a/b") is None
