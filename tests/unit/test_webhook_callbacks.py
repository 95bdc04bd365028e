"""The token/webhook rendezvous and the delivery's idempotency, against moto's server: a real table, and real
executions waiting on real task tokens.

Each execution parks its token under TOKEN#<task> (aws-sdk:dynamodb:updateItem.waitForTaskToken); the test hands
it to `Callbacks.register_token`, as the store_token function does, in whichever order the case needs.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from faceswap.callbacks import Callbacks
from faceswap.records import JobStore
from local.aws import dynamodb_atomic
from local.aws.server import MotoServer
from local.eventually import eventually
from tests.unit.conftest import submit_job

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

TABLE = "jobs"
ROLE = "arn:aws:iam::123456789012:role/test"
RACES = 30


@dataclass
class Stack:
    table: Any
    sfn: Any
    machine: str

    def waiting_task(self, task_id: str) -> str:
        """A submitted job whose execution waits on a task token; returns that token."""
        submit_job(self.table, f"job-{task_id}", task_id)
        self.sfn.start_execution(stateMachineArn=self.machine, name=task_id,
                                 input=json.dumps({"pk": f"TOKEN#{task_id}"}))
        item = eventually(lambda: self.table.get_item(Key={"pk": f"TOKEN#{task_id}"}, ConsistentRead=True).get(
            "Item", {}).get("token"), 30, interval=0.01, what=f"{task_id} to wait on its token")
        return str(item)

    def execution(self, task_id: str, timeout: float = 10) -> dict[str, Any]:
        """The execution once it left RUNNING."""
        return eventually(lambda: (d := self._described(task_id))["status"] != "RUNNING" and d, timeout,
                          interval=0.02, what=f"{task_id} to end")

    def status_after(self, task_id: str, seconds: float) -> str:
        """The execution's status once `seconds` have gone by (in which nothing was to end it)."""
        time.sleep(seconds)
        return str(self._described(task_id)["status"])

    def _described(self, task_id: str) -> dict[str, Any]:
        arn = self.machine.replace(":stateMachine:", ":execution:") + f":{task_id}"
        return dict(self.sfn.describe_execution(executionArn=arn))

    def task_item(self, task_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.table.get_item(Key={"pk": f"TASK#{task_id}"},
                                                          ConsistentRead=True).get("Item")
        return item


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with MotoServer() as moto:
        dynamodb_atomic.install()
        try:
            yield _create(moto)
        finally:
            dynamodb_atomic.uninstall()


def _create(moto: MotoServer) -> Stack:
    moto.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    parameters = {"TableName": TABLE, "Key": {"pk": {"S.$": "$.pk"}}, "UpdateExpression": "SET #t = :t",
                  "ExpressionAttributeNames": {"#t": "token"},
                  "ExpressionAttributeValues": {":t": {"S.$": "$$.Task.Token"}}}
    waiting = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
               "End": True, "Parameters": parameters}
    sfn = moto.client("stepfunctions")
    machine = sfn.create_state_machine(name="waiting", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "Wait for webhook", "States": {"Wait for webhook": waiting}}))["stateMachineArn"]
    table = boto3.resource("dynamodb", region_name=moto.region, endpoint_url=moto.endpoint_url).Table(TABLE)
    return Stack(table, sfn, machine)


@pytest.fixture
def callbacks(stack: Stack) -> Callbacks:
    return Callbacks(JobStore(stack.table), stack.sfn)


class _ThrottledOnce:
    """The real Step Functions client, except that the first SendTaskSuccess is throttled."""

    def __init__(self, real: Any) -> None:
        self._real, self.throttled = real, False

    def send_task_success(self, **kwargs: Any) -> Any:
        if not self.throttled:
            self.throttled = True
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                              "SendTaskSuccess")
        return self._real.send_task_success(**kwargs)


def test_token_first_then_the_webhook_signals_and_repeats_change_nothing(stack: Stack,
                                                                         callbacks: Callbacks) -> None:
    token = stack.waiting_task("t-token-first")
    assert callbacks.register_token("t-token-first", token) is False  # no webhook yet: keep waiting

    assert callbacks.on_webhook("t-token-first", "success", "msg_1") == "signalled"
    assert callbacks.on_webhook("t-token-first", "success", "msg_1") == "duplicate"
    assert callbacks.on_webhook("t-token-first", "success", "msg_2") == "already_done"  # another delivery, late
    assert callbacks.on_webhook("t-token-first", "success", "msg_1") == "duplicate"  # every id is remembered

    execution = stack.execution("t-token-first")
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["via"] == "webhook"
    item = stack.task_item("t-token-first")
    assert item is not None and item["webhook_ids"] == {"msg_1", "msg_2"} and item["job_id"] == "job-t-token-first"


def test_webhook_first_is_kept_for_the_token_which_then_signals(stack: Stack, callbacks: Callbacks) -> None:
    token = stack.waiting_task("t-webhook-first")
    assert callbacks.on_webhook("t-webhook-first", "success", "msg_1") == "waiting_for_token"
    assert callbacks.on_webhook("t-webhook-first", "success", "msg_1") == "duplicate"  # not accepted twice
    assert stack.status_after("t-webhook-first", 0.2) == "RUNNING"

    assert callbacks.register_token("t-webhook-first", token) is True

    execution = stack.execution("t-webhook-first")
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"task_id": "t-webhook-first", "task_status": "success",
                                               "via": "webhook arrived before the token"}


def test_a_failure_delivery_is_recorded_but_left_to_the_poller(stack: Stack, callbacks: Callbacks) -> None:
    # The poller reads the engine code from the API and fails the job with it; the webhook's body has none.
    before_token = stack.waiting_task("t-failed-early")
    assert callbacks.on_webhook("t-failed-early", "error", "msg_1") == "left_to_poller"
    assert callbacks.register_token("t-failed-early", before_token) is False
    after_token = stack.waiting_task("t-failed-late")
    assert callbacks.register_token("t-failed-late", after_token) is False
    assert callbacks.on_webhook("t-failed-late", "error", "msg_2") == "left_to_poller"
    assert callbacks.on_webhook("t-failed-late", "error", "msg_2") == "duplicate"

    for task in ("t-failed-early", "t-failed-late"):
        assert stack.status_after(task, 0.2) == "RUNNING"
        item = stack.task_item(task)
        assert item is not None and item["webhook_status"] == "error"


def test_unknown_tasks_and_running_statuses_record_nothing(stack: Stack, callbacks: Callbacks) -> None:
    assert callbacks.on_webhook("t-never-submitted", "success", "msg_1") == "unknown_task"
    assert stack.task_item("t-never-submitted") is None

    stack.waiting_task("t-still-running")
    assert callbacks.on_webhook("t-still-running", "running", "msg_1") == "not_final"
    item = stack.task_item("t-still-running")
    assert item is not None and "webhook_status" not in item and "webhook_ids" not in item


def test_the_retry_of_a_delivery_whose_signal_failed_ends_the_wait(stack: Stack) -> None:
    store = JobStore(stack.table)
    token = stack.waiting_task("t-throttled")
    assert Callbacks(store, stack.sfn).register_token("t-throttled", token) is False

    with pytest.raises(ClientError, match="ThrottlingException"):  # a 5xx: the vendor retries the delivery
        Callbacks(store, cast("SFNClient", _ThrottledOnce(stack.sfn))).on_webhook("t-throttled", "success", "msg_1")
    assert stack.status_after("t-throttled", 0.2) == "RUNNING"

    assert Callbacks(store, stack.sfn).on_webhook("t-throttled", "success", "msg_1") == "signalled"
    assert stack.execution("t-throttled")["status"] == "SUCCEEDED"


def test_token_and_webhook_racing_always_end_the_wait(stack: Stack, callbacks: Callbacks) -> None:
    """Whichever of the two writes lands second sees the other half: every execution ends, in either order."""
    tasks = [f"t-race-{i:02d}" for i in range(RACES)]
    tokens = {task: stack.waiting_task(task) for task in tasks}

    def race(task: str) -> tuple[bool, str]:
        with ThreadPoolExecutor(2) as pool:
            early = pool.submit(callbacks.register_token, task, tokens[task])
            outcome = pool.submit(callbacks.on_webhook, task, "success", f"msg_{task}")
            return early.result(), outcome.result()

    with _threads_switching_often(), ThreadPoolExecutor(4) as pool:
        results = dict(zip(tasks, pool.map(race, tasks), strict=True))

    assert {stack.execution(task)["status"] for task in tasks} == {"SUCCEEDED"}, results
    for task, (token_signalled, outcome) in results.items():
        assert token_signalled or outcome in ("signalled", "already_done"), (task, outcome)


@contextmanager
def _threads_switching_often() -> Iterator[None]:
    """moto's server runs in this process: switching threads every microsecond interleaves the two writes inside
    it (without local.aws.dynamodb_atomic, about 1 race in 10 then loses both halves)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
