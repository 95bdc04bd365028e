"""The contracts between the state machines and the functions hold in the synthesized ASL: every JSONPath names a
field of the state's model (faceswap.states), every payload a function gets is its input model, and every error
name a Retry or Catch names is one the code raises or the service itself."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import botocore.exceptions
import botocore.session
import pytest
from pydantic import BaseModel

from faceswap import errors, states
from faceswap.media import errors as media_errors
from faceswap.youcam import errors as youcam_errors
from infra.paths import fields, path
from tests.conftest import Synthesized

# Errors of the services themselves: Step Functions' own, Lambda's (the service, and a function that timed out in
# its sandbox) and the SDK integrations' (Sfn.*).
SERVICE_PREFIXES = ("States.", "Lambda.", "Sandbox.", "Sfn.")
# The services whose modelled errors botocore raises in the functions (DynamoDB, Secrets Manager, Step Functions).
CALLED_SERVICES = ("dynamodb", "secretsmanager", "stepfunctions")
CORE_ERROR_MODULES = (errors, youcam_errors, media_errors)
JSON_PATH = re.compile(r"(?<![$\w])\$\.([A-Za-z_][\w.]*)")


def _definition(s: Synthesized, kind: str) -> dict[str, Any]:
    template = json.loads(s.template_path.read_text())
    machine = next(r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
                   and r["Properties"]["StateMachineType"] == kind)
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return dict(json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts)))


@pytest.fixture(scope="module")
def machines(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {"job": _definition(synthesized, "STANDARD"), "poller": _definition(synthesized, "EXPRESS")}


STATE_MODELS: dict[str, type[BaseModel]] = {"job": states.JobState, "poller": states.PollerState}


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def _paths_read_or_written(state: dict[str, Any]) -> set[str]:
    """Every `$.a.b` in the state's paths, parameters (`x.$`), choice variables and intrinsic functions."""
    found: set[str] = set()
    for key, value in _walk(state):
        if isinstance(value, str) and (key.endswith((".$", "Path")) or key == "Variable"):
            found.update(JSON_PATH.findall(value))
    return found


@pytest.mark.parametrize("machine", ["job", "poller"])
def test_every_json_path_names_a_field_of_the_states_model(machines: dict[str, dict[str, Any]], machine: str) -> None:
    model = STATE_MODELS[machine]
    seen: set[str] = set()
    for state in machines[machine]["States"].values():
        for dotted in _paths_read_or_written(state):
            path(model, *dotted.split("."))  # KeyError names the state's model and the field it lacks
            seen.add(dotted)
    assert seen, "the walk found the paths"
    assert {"job": {"job_id", "task_id", "poll", "error", "error.Error", "outcome"},
            "poller": {"token", "poll.interval_seconds", "poll.final", "poll.hand_over", "registration.signalled",
                       "error.Cause"}}[machine] <= seen


def _lambda_payloads(definition: dict[str, Any]) -> dict[str, set[str]]:
    """State name -> the keys of the payload it hands its function (invoked by ARN: the parameters are the payload;
    through lambda:invoke: its Payload)."""
    payloads = {}
    for name, state in definition["States"].items():
        resource = state.get("Resource", "")
        if resource == "TOKEN":
            payloads[name] = state["Parameters"]
        elif resource.endswith(":lambda:invoke"):
            payloads[name] = state["Parameters"]["Payload"]
    return {name: {key.removesuffix(".$") for key in payload} for name, payload in payloads.items()}


def test_each_function_gets_exactly_the_fields_of_its_input_model(machines: dict[str, dict[str, Any]]) -> None:
    payloads = _lambda_payloads(machines["job"]) | _lambda_payloads(machines["poller"])
    expected: dict[str, type[BaseModel]] = {
        "Finalize": states.FinalizeInput, "Record failure": states.RecordFailureInput,
        "Store token for the webhook": states.StoreTokenInput, "Check task status": states.CheckStatusInput}
    assert payloads == {name: set(model.model_fields) for name, model in expected.items()}
    wait = machines["job"]["States"]["Wait for the vendor task"]["Parameters"]["Input"]
    # (and the key Step Functions adds to associate the poller's execution with the job's)
    assert {k.removesuffix(".$") for k in wait} - {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"} == set(
        states.PollerInput.model_fields)


def _exception_names(module: ModuleType) -> set[str]:
    return {name for name, value in vars(module).items()
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.__name__}


def _modelled_service_errors() -> set[str]:
    session = botocore.session.get_session()
    return {shape.name for service in CALLED_SERVICES for shape in session.get_service_model(service).error_shapes}


def test_every_retried_or_caught_error_is_raised_by_the_code_or_the_service(
        machines: dict[str, dict[str, Any]]) -> None:
    raised = set().union(*map(_exception_names, CORE_ERROR_MODULES)) | {botocore.exceptions.ClientError.__name__}
    modelled = _modelled_service_errors()
    named = {error for definition in machines.values() for state in definition["States"].values()
             for rule in state.get("Retry", []) + state.get("Catch", []) for error in rule["ErrorEquals"]}
    unknown = {e for e in named if not e.startswith(SERVICE_PREFIXES) and e not in raised | modelled}
    assert not unknown, f"retried or caught, but raised by nothing: {sorted(unknown)}"
    assert {"VendorUnavailable", "TaskStillRunning", "ClientError"} <= named  # the walk saw the code's own


def test_a_wrong_field_name_stops_the_synth() -> None:
    assert path(states.PollerState, "poll", "interval_seconds") == "$.poll.interval_seconds"
    assert path(states.JobState, "error", "Cause") == "$.error.Cause"
    with pytest.raises(KeyError, match="PollState has no field 'interval'"):
        path(states.PollerState, "poll", "interval")
    with pytest.raises(KeyError, match="not a model"):
        path(states.PollerState, "token", "length")
    with pytest.raises(KeyError, match="has no field 'job'"):
        fields(states.FinalizeInput, job="$.job_id", task_id="$.task_id")
    with pytest.raises(KeyError, match=r"requires \['task_id'\]"):
        fields(states.FinalizeInput, job_id="$.job_id")
