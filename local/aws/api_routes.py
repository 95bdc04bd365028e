"""The routes of a REST API as the template declares them: resource paths, methods, their Lambda proxy
integrations, required request parameters; and API Gateway's choice of route for a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Template = dict[str, Any]


@dataclass(frozen=True)
class Route:
    rest_api: str  # logical id of the AWS::ApiGateway::RestApi
    resource: str  # logical id of the AWS::ApiGateway::Resource ("" for the root)
    path: str  # e.g. "/hook", "/items/{id}", "/{proxy+}"
    method: str  # "POST", ..., or "ANY"
    function: str | None  # logical id of the proxied Lambda function; None for other integrations
    integration_type: str
    timeout_ms: int
    required_headers: tuple[str, ...] = ()
    required_query: tuple[str, ...] = ()

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters if this route serves the request, else None."""
        if self.method not in ("ANY", method):
            return None
        return match_path(self.path, path)

    @property
    def specificity(self) -> tuple[int, int, int]:
        # API Gateway prefers literal segments over {param} over {greedy+}, and an exact method over ANY.
        segments = [s for s in self.path.split("/") if s]
        literal = sum(1 for s in segments if not s.startswith("{"))
        greedy = sum(1 for s in segments if s.endswith("+}"))
        return literal, -greedy, int(self.method != "ANY")


def match_path(pattern: str, path: str) -> dict[str, str] | None:
    wanted, actual = [s for s in pattern.split("/") if s], [s for s in path.split("/") if s]
    params: dict[str, str] = {}
    for index, segment in enumerate(wanted):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = actual[index:]
            if not rest:
                return None
            params[segment[1:-2]] = "/".join(rest)
            return params
        if index >= len(actual):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            params[segment[1:-1]] = actual[index]
        elif segment != actual[index]:
            return None
    return params if len(actual) == len(wanted) else None


def choose(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    candidates = [(route, params) for route in routes if (params := route.match(method, path)) is not None]
    return max(candidates, key=lambda c: c[0].specificity) if candidates else None


def routes_from_template(template: Template) -> list[Route]:
    resources = template.get("Resources", {})
    paths = _resource_paths(resources)
    routes = []
    for method in (r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Method"):
        props = method.get("Properties", {})
        rest_api, resource = _ref(props.get("RestApiId")), _resource_id(props.get("ResourceId"))
        integration = props.get("Integration", {})
        required = [k for k, v in props.get("RequestParameters", {}).items() if _validates_parameters(
            resources, props.get("RequestValidatorId")) and str(v).lower() == "true"]
        routes.append(Route(
            rest_api=rest_api or "", resource=resource, path=paths.get(resource, "/"),
            method=props.get("HttpMethod", "ANY").upper(), function=_function_of(integration, resources),
            integration_type=integration.get("Type", "MOCK"), timeout_ms=int(integration.get("TimeoutInMillis", 29000)),
            required_headers=tuple(_names(required, "method.request.header.")),
            required_query=tuple(_names(required, "method.request.querystring."))))
    return routes


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def _resource_id(value: Any) -> str:
    # The root is `Fn::GetAtt [Api, RootResourceId]`; children are `Ref` to their AWS::ApiGateway::Resource.
    return _ref(value) or ""


def _resource_paths(resources: Template) -> dict[str, str]:
    paths: dict[str, str] = {"": "/"}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = path_of(_resource_id(props.get("ParentId")))
            paths[logical_id] = f"{parent.rstrip('/')}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::ApiGateway::Resource":
            path_of(logical_id)
    return paths


def _function_of(integration: dict[str, Any], resources: Template) -> str | None:
    if integration.get("Type") != "AWS_PROXY":
        return None
    for logical_id in _referenced_ids(integration.get("Uri")):
        if resources.get(logical_id, {}).get("Type") == "AWS::Lambda::Function":
            return logical_id
    return None


def _referenced_ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return [value["Fn::GetAtt"][0]]
        if "Ref" in value:
            return [value["Ref"]]
        return [i for v in value.values() for i in _referenced_ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _referenced_ids(v)]
    return []


def _validates_parameters(resources: Template, validator_ref: Any) -> bool:
    validator = resources.get(_ref(validator_ref) or "", {})
    return str(validator.get("Properties", {}).get("ValidateRequestParameters", "false")).lower() == "true"


def _names(parameters: list[str], prefix: str) -> list[str]:
    return [p[len(prefix):] for p in parameters if p.startswith(prefix)]
