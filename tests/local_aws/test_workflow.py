"""Step Functions executes the synthesized definition: the polling/callback race, failure events, StopExecution,
and time-warped waits and timeouts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from local.aws.stack import LocalStack
from local.eventually import eventually
from tests.local_aws.helpers import POLL_SECONDS, WAIT_SECONDS, get_item


def execution_arn(aws: LocalStack, name: str) -> str:
    return aws.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{name}"


def finished(aws: LocalStack, arn: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    return eventually(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, timeout,
                      interval=POLL_SECONDS, what=f"{arn} to end")


def test_webhook_through_the_api_front_wins_the_race(aws: LocalStack) -> None:
    aws.client("s3").put_object(Bucket=aws.outputs["BucketName"], Key="in/race1.json",
                                Body=json.dumps({"wait_seconds": 60}).encode())
    _item(aws, "token#race1")
    _item(aws, "polls#race1", timeout=5)  # a 60 s Wait went by (time warp)
    response = requests.post(aws.api.url_for("/hook"), json={"job": "race1"}, headers={"x-signature": "s"},
                             timeout=10)
    assert response.status_code == 200 and response.json() == {"ok": True, "job": "race1"}
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    execution = finished(aws, execution_arn(aws, "race1"))
    assert execution["status"] == "SUCCEEDED"
    history = aws.client("stepfunctions").get_execution_history(executionArn=execution_arn(aws, "race1"))
    assert any(e["type"] == "TaskSucceeded" and "webhook" in e["taskSucceededEventDetails"]["output"]
               for e in history["events"])


def test_polling_can_win_the_race(aws: LocalStack) -> None:
    sfn = aws.client("stepfunctions")
    sfn.start_execution(stateMachineArn=aws.outputs["StateMachineArn"], name="poll1",
                        input=json.dumps({"job": "poll1", "wait_seconds": 30, "finish_by_polling": True}))
    assert finished(aws, execution_arn(aws, "poll1"))["status"] == "SUCCEEDED"
    assert get_item(aws, "polls#poll1") == {"pk": {"S": "polls#poll1"}, "n": {"N": "1"}}


def test_failed_execution_reaches_the_eventbridge_rule(aws: LocalStack) -> None:
    sfn = aws.client("stepfunctions")
    sfn.start_execution(stateMachineArn=aws.outputs["StateMachineArn"], name="broken1",
                        input=json.dumps({"job": "broken1"}))  # no wait_seconds: the Wait state fails
    assert finished(aws, execution_arn(aws, "broken1"))["status"] == "FAILED"
    item = _item(aws, "failed#broken1")
    assert item["status"] == {"S": "FAILED"}


def test_stop_execution_aborts_at_once_runs_nothing_more_and_reaches_the_eventbridge_rule(aws: LocalStack) -> None:
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=aws.outputs["StateMachineArn"], name="stop1",
                              input=json.dumps({"job": "stop1", "wait_seconds": 60}))["executionArn"]
    with _rule_on(aws, "ABORTED"):
        _item(aws, "token#stop1")  # the callback branch waits for its task token
        stopped = sfn.stop_execution(executionArn=arn)

        execution = sfn.describe_execution(executionArn=arn)  # at once, as on AWS
        assert (execution["status"], execution["stopDate"]) == ("ABORTED", stopped["stopDate"])
        item = _item(aws, "failed#stop1")
        assert item["status"] == {"S": "ABORTED"}
    history = sfn.get_execution_history(executionArn=arn)["events"]
    assert history[-1]["type"] == "ExecutionAborted"

    time.sleep(2)  # the 60 s poll wait (1.2 s) is over: the loop would have polled again
    sfn.stop_execution(executionArn=arn)  # stopping an ended execution changes nothing
    assert sfn.get_execution_history(executionArn=arn)["events"] == history
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    polls = get_item(aws, "polls#stop1")
    assert (int(polls["n"]["N"]) if polls else 0) == _entered(history, "Check")  # only polls begun before the stop
    recorder = aws.function_name("Recorder")
    assert [i.event["detail"]["status"] for i in aws.runtime.invocations
            if i.function_name == recorder and i.event["detail"]["name"] == "stop1"] == ["ABORTED"]


@contextmanager
def _rule_on(aws: LocalStack, status: str) -> Iterator[None]:
    """A rule sending this machine's executions of one status to the recorder (the app's rule takes failures)."""
    events, name = aws.client("events"), f"executions-{status.lower()}"
    pattern = {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
               "detail": {"status": [status], "stateMachineArn": [aws.outputs["StateMachineArn"]]}}
    recorder = f"arn:aws:lambda:us-east-1:123456789012:function:{aws.function_name('Recorder')}"
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "recorder", "Arn": recorder}])
    try:
        yield
    finally:
        events.remove_targets(Rule=name, Ids=["recorder"])
        events.delete_rule(Name=name)


def _entered(history: list[dict[str, Any]], state: str) -> int:
    return sum(1 for e in history if e.get("stateEnteredEventDetails", {}).get("name") == state)


def _task(aws: LocalStack, **fields: Any) -> dict[str, Any]:
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{aws.function_name('TokenFn')}"
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "End": True,
            "Parameters": {"FunctionName": arn, "Payload": {"token.$": "$$.Task.Token", "job": "timeouts"}},
            **fields}


@pytest.mark.parametrize(("name", "definition", "status", "error"), [
    ("task-timeout", lambda aws: {"StartAt": "T", "States": {"T": _task(aws, TimeoutSeconds=60)}},
     "FAILED", "States.Timeout"),
    ("heartbeat", lambda aws: {"StartAt": "T", "States": {"T": _task(aws, TimeoutSeconds=900, HeartbeatSeconds=30)}},
     "FAILED", "States.HeartbeatTimeout"),  # as on AWS (local.aws.sfn_integrations)
    ("machine-timeout", lambda aws: {"StartAt": "W", "TimeoutSeconds": 60,
                                     "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}},
     "TIMED_OUT", None),
])
def test_timeouts_are_honoured_in_warped_time(aws: LocalStack, name: str, definition: Any, status: str,
                                               error: str | None) -> None:
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name=f"warp-{name}", definition=json.dumps(definition(aws)),
                                       roleArn="arn:aws:iam::123456789012:role/unused")["stateMachineArn"]
    started = time.monotonic()
    arn = sfn.start_execution(stateMachineArn=machine, name="run", input="{}")["executionArn"]
    execution = finished(aws, arn)
    assert time.monotonic() - started < 3  # 60 virtual seconds at a 0.02 scale
    assert (execution["status"], execution.get("error")) == (status, error)


def test_a_lambda_tasks_timeout_runs_in_real_time_like_the_function(aws: LocalStack) -> None:
    """A Lambda function runs in real time here; its task's TimeoutSeconds does too (scaled, 1 s would be 20 ms)."""
    probe = f"arn:aws:lambda:us-east-1:123456789012:function:{aws.function_name('Probe')}"
    sleep = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 1,
             "Parameters": {"FunctionName": probe, "Payload": {"action": "sleep", "seconds": 0.3}}}
    warm = {**sleep, "TimeoutSeconds": 10, "Next": "Sleep"}  # a cold start may take longer than the second
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name="real-time-task", definition=json.dumps(
        {"StartAt": "Warm", "States": {"Warm": warm, "Sleep": {**sleep, "End": True}}}),
                                       roleArn="arn:aws:iam::123456789012:role/unused")["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="run", input="{}")["executionArn"]
    assert finished(aws, arn)["status"] == "SUCCEEDED"


def test_a_task_token_is_single_use_as_on_aws(aws: LocalStack) -> None:
    # Still running after the callback (a Wait follows), so only the token's own state can refuse the repeat.
    task = {key: value for key, value in _task(aws).items() if key != "End"} | {"Next": "W"}
    definition = {"StartAt": "T", "States": {"T": task, "W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name="single-use", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/unused")["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="run", input="{}")["executionArn"]
    token = _scheduled_token(sfn, arn)

    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output="{}")
    for call in (lambda: sfn.send_task_success(taskToken=token, output="{}"),
                 lambda: sfn.send_task_failure(taskToken=token, error="Late"),
                 lambda: sfn.send_task_heartbeat(taskToken=token)):
        with pytest.raises(sfn.exceptions.TaskTimedOut):
            call()
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # in the Wait
    assert finished(aws, arn)["status"] == "SUCCEEDED"


def _scheduled_token(sfn: Any, arn: str) -> str:
    """The task token of the execution's callback task, once the task has started waiting on it."""
    def submitted() -> list[dict[str, Any]] | None:
        events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn)["events"]
        return events if any(e["type"] == "TaskSubmitted" for e in events) else None

    events = eventually(submitted, WAIT_SECONDS, interval=POLL_SECONDS, what="the callback task to start")
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")
    return str(json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]["token"])


def _item(aws: LocalStack, pk: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
    return eventually(lambda: get_item(aws, pk), timeout, interval=POLL_SECONDS, what=f"the item {pk}")
