"""Time budgets proven on the synthesized definitions, not by running them (tests/infra/asl_budget.py walks them).

- Every Express execution ends well inside Express's 5 minutes in its worst case: each task's attempts at their
  timeouts, every retry at its longest delay, every Wait at the longest the code allows, the poll loop bounded by the
  hand-over rule (check_status: hand over when the next Wait would end past HAND_OVER_AFTER_SECONDS).
- Every heartbeat of the job's wait comes before its HeartbeatSeconds, which is set and below its TimeoutSeconds.
- The job's timeouts nest: its run timeout holds the wait's timeout, then Finalize and Record failure at their worst.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from faceswap.budgets import (
    EXPRESS_LIMIT_SECONDS,
    EXPRESS_MARGIN_SECONDS,
    HAND_OVER_AFTER_SECONDS,
    HEARTBEAT_MARGIN_SECONDS,
    MAX_WAIT_SECONDS,
)
from faceswap.layout import Env
from faceswap.polling import wait_seconds
from faceswap.states import CheckStatusInput, PollerState
from infra.app import build_app
from infra.config import ConfigError
from infra.functions import LOCAL_ASSETS_CONTEXT
from infra.paths import path
from tests.conftest import Synthesized
from tests.infra.asl_budget import Walker, definition, task_worst

Resources = dict[str, dict[str, Any]]
CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"
INTERVAL = path(PollerState, "poll", "interval_seconds")
# Every $.poll.interval_seconds comes from faceswap.polling.wait_seconds (the start function's first poll,
# check_status's answers; a hand-over passes the last answer on): at most MAX_WAIT_SECONDS.
WAIT_MAXIMA = {INTERVAL: MAX_WAIT_SECONDS}


@pytest.fixture(scope="module")
def resources(synthesized: Synthesized) -> Resources:
    return dict(json.loads(synthesized.template_path.read_text())["Resources"])


def _machines(resources: Resources, kind: str) -> dict[str, dict[str, Any]]:
    return {lid: definition(r) for lid, r in resources.items()
            if r["Type"] == "AWS::StepFunctions::StateMachine" and r["Properties"]["StateMachineType"] == kind}


def _poller(resources: Resources) -> dict[str, Any]:
    [poller] = _machines(resources, "EXPRESS").values()
    return poller


def _job(resources: Resources) -> dict[str, Any]:
    [job] = _machines(resources, "STANDARD").values()
    return job


def _one(states: dict[str, Any], resource_suffix: str) -> str:
    [name] = [n for n, s in states.items() if str(s.get("Resource", "")).endswith(resource_suffix)]
    return name


def test_the_poll_loop_is_the_only_loop_and_the_hand_over_rule_guards_it(resources: Resources) -> None:
    poller = _poller(resources)
    states = poller["States"]
    [(decide, wait)] = Walker(states).back_edges(poller["StartAt"])
    assert states[wait] == {"Type": "Wait", "SecondsPath": INTERVAL, "Next": states[wait]["Next"]}
    # The loop goes round only when the check said not to hand over: its Default comes after that rule.
    assert states[decide]["Default"] == wait
    assert {"Variable": path(PollerState, "poll", "hand_over"), "BooleanEquals": True} in [
        {k: v for k, v in rule.items() if k != "Next"} for rule in states[decide]["Choices"]]
    # The check writes $.poll (the next wait, hand_over), measuring the poller's age from its start.
    [check] = [n for n, s in states.items() if s.get("ResultPath") == path(PollerState, "poll")]
    payload = states[check]["Parameters"]  # (payload_response_only: the parameters are the payload)
    assert "poller_started" in CheckStatusInput.model_fields
    assert payload["poller_started.$"] == "$$.Execution.StartTime"


def test_each_express_execution_ends_well_inside_the_express_limit(resources: Resources) -> None:
    limit = EXPRESS_LIMIT_SECONDS - EXPRESS_MARGIN_SECONDS
    for lid, machine in _machines(resources, "EXPRESS").items():
        states = machine["States"]
        assert machine["TimeoutSeconds"] == EXPRESS_LIMIT_SECONDS, lid
        loops = Walker(states).back_edges(machine["StartAt"])
        walker = Walker(states, WAIT_MAXIMA, cut=frozenset(loops))
        # A fresh poller: the token stored, the longest Wait, one round, the last call.
        fresh = walker.longest(machine["StartAt"])
        # After a check that measured the poller's age and chose to loop (age + next Wait <= the hand-over budget):
        # the rest of that check, the Wait, then a round and the last call.
        [(decide, wait)] = loops
        [check] = [n for n, s in states.items() if s.get("Next") == decide]
        looped = HAND_OVER_AFTER_SECONDS + states[check]["TimeoutSeconds"] + walker.longest(states[wait]["Next"])
        assert fresh <= limit and looped <= limit, (lid, fresh, looped)


def test_the_check_function_hands_over_by_the_budget_the_proof_uses(resources: Resources) -> None:
    [check] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"
               and r["Properties"].get("Handler") == "check_status.app.lambda_handler"]
    assert Env.POLLER_HAND_OVER_SECONDS not in check["Environment"]["Variables"]  # only tests shorten it
    assert wait_seconds(10**9) == MAX_WAIT_SECONDS  # what WAIT_MAXIMA assumes


def test_every_heartbeat_comes_before_the_jobs_heartbeat_timeout(resources: Resources) -> None:
    job, poller = _job(resources), _poller(resources)
    wait = job["States"][_one(job["States"], ":states:::states:startExecution.waitForTaskToken")]
    assert "HeartbeatSeconds" in wait and wait["HeartbeatSeconds"] < wait["TimeoutSeconds"]
    states = poller["States"]
    beat = _one(states, ":states:::aws-sdk:sfn:sendTaskHeartbeat")
    hand_over = _one(states, ":states:::aws-sdk:sfn:startExecution")
    loops = frozenset(Walker(states).back_edges(poller["StartAt"]))
    acyclic, looping = Walker(states, WAIT_MAXIMA, cut=loops), Walker(states, WAIT_MAXIMA)
    beat_lasts = task_worst(beat, states[beat])  # it counts when it succeeds, at the end of its retries
    first = acyclic.longest(poller["StartAt"], stop=frozenset({beat})) + beat_lasts
    gaps = {"first": first,
            "between polls": looping.longest(states[beat]["Next"], stop=frozenset({beat})) + beat_lasts,
            "across a hand-over": acyclic.longest(states[beat]["Next"], stop=frozenset({hand_over}))
            + task_worst(hand_over, states[hand_over]) + first}
    assert max(gaps.values()) + HEARTBEAT_MARGIN_SECONDS <= wait["HeartbeatSeconds"], gaps


@pytest.mark.parametrize("context", ["tests", "cdk.json"])
def test_the_jobs_timeouts_nest(resources: Resources, context: str, tmp_path: Path) -> None:
    """Run timeout > the wait's timeout + Finalize's worst + Record failure's: the job records its own end."""
    if context == "cdk.json":  # the defaults a user deploys
        app = build_app(outdir=str(tmp_path), context={**_cdk_json_context(), LOCAL_ASSETS_CONTEXT: True})
        resources = dict(app.synth().get_stack_by_name("FaceSwap").template["Resources"])
    job = _job(resources)
    worst = Walker(job["States"]).longest(job["StartAt"])  # the wait at its timeout, then the rest
    assert worst < job["TimeoutSeconds"], (worst, job["TimeoutSeconds"])


def test_settings_that_would_break_the_budgets_are_refused(tmp_path: Path) -> None:
    context = {**_cdk_json_context(), LOCAL_ASSETS_CONTEXT: True}
    for key, value, message in [
        ("faceswap:webhook_wait_minutes", 6, "webhook_wait_minutes must be between 7"),  # the heartbeat is 6 min
        ("faceswap:run_timeout_minutes", 114, "must exceed webhook_wait_minutes (90) by more than 24"),
        ("faceswap:default_polling_interval_seconds", MAX_WAIT_SECONDS + 1, "between 1 and 105"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            build_app(outdir=str(tmp_path), context={**context, key: value})


def _cdk_json_context() -> dict[str, Any]:
    return dict(json.loads(CDK_JSON.read_text())["context"])
