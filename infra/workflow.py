"""The job's state machine: a race between the vendor's webhook and polling, then Finalize.

    Race: webhook vs polling ─┬─ Poll:    Wait polling_interval → Check task status → Task finished? ─(no)─┐
                              │           ▲─────────────────────────────────────────────────────────────────┘
                              └─ Webhook: Wait for webhook (task token, stored against the vendor task id)
    whichever branch sees the final status first fails with `TaskFinished`, which ends the race →
    Finalize (trusts the API, copies the result) → Swap succeeded? → Done | Vendor task failed
    any other error → Record failure (error.json) → Job failed
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

RACE_FINISHED = "TaskFinished"
# Raised by handlers (errorType = exception class name) for faults worth retrying with backoff.
TRANSIENT_ERRORS = ["VendorUnavailable", "TaskStillRunning"]
# A poll that ran out of time (the Lambda's own timeout, or the task's) only read a status: safe to repeat.
POLL_TIMEOUTS = ["States.Timeout", "Sandbox.Timedout"]


@dataclass(frozen=True)
class WorkflowFunctions:
    check_status: lambda_.IFunction
    await_webhook: lambda_.IFunction
    finalize: lambda_.IFunction
    record_failure: lambda_.IFunction


@dataclass(frozen=True)
class WorkflowLimits:
    max_polls: int
    webhook_wait: Duration


def build_definition(parent: Construct, fns: WorkflowFunctions, limits: WorkflowLimits) -> sfn.IChainable:
    scope = Construct(parent, "States")  # state names are construct ids: keep them apart from the functions'
    record_failure = _record_failure(scope, fns.record_failure)
    race = sfn.Parallel(scope, "Race: webhook vs polling", result_path=sfn.JsonPath.DISCARD)
    race.branch(_poll_branch(scope, fns.check_status, limits.max_polls))
    race.branch(_webhook_branch(scope, fns.await_webhook, limits.webhook_wait))
    finalize = _finalize(scope, fns.finalize)
    race.add_catch(finalize, errors=[RACE_FINISHED], result_path="$.race")
    race.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
    finalize.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
    return race


def _poll_branch(scope: Construct, check_status: lambda_.IFunction, max_polls: int) -> sfn.IChainable:
    wait = sfn.Wait(scope, "Wait polling_interval",
                    time=sfn.WaitTime.seconds_path("$.poll.interval_seconds"))
    check = tasks.LambdaInvoke(
        scope, "Check task status", lambda_function=check_status,
        payload=sfn.TaskInput.from_object({
            "job_id": sfn.JsonPath.string_at("$.job_id"),
            "task_id": sfn.JsonPath.string_at("$.task_id"),
            "poll": sfn.JsonPath.object_at("$.poll"),
        }),
        payload_response_only=True, result_path="$.poll", task_timeout=sfn.Timeout.duration(Duration.seconds(60)),
    )
    _retry_transient(check)
    check.add_retry(errors=POLL_TIMEOUTS, interval=Duration.seconds(5), max_attempts=3, backoff_rate=2,
                    jitter_strategy=sfn.JitterType.FULL)
    finished = sfn.Fail(scope, "Poll saw final status", error=RACE_FINISHED, cause="Polling saw the final status")
    limit = sfn.Fail(scope, "Poll limit reached", error="PollLimitReached",
                     cause=f"The vendor task did not finish within {max_polls} polls")
    decide = (
        sfn.Choice(scope, "Task finished?")
        .when(sfn.Condition.boolean_equals("$.poll.final", True), finished)
        .when(sfn.Condition.number_greater_than_equals("$.poll.count", max_polls), limit)
        .otherwise(wait)
    )
    return wait.next(check).next(decide)


def _webhook_branch(scope: Construct, await_webhook: lambda_.IFunction, timeout: Duration) -> sfn.IChainable:
    wait_for_webhook = tasks.LambdaInvoke(
        scope, "Wait for webhook", lambda_function=await_webhook,
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload=sfn.TaskInput.from_object({
            "token": sfn.JsonPath.task_token,
            "job_id": sfn.JsonPath.string_at("$.job_id"),
            "task_id": sfn.JsonPath.string_at("$.task_id"),
        }),
        result_path="$.webhook", task_timeout=sfn.Timeout.duration(timeout),
    )
    _retry_transient(wait_for_webhook)
    # No webhook in time is not a failure: the polling branch keeps the race going.
    wait_for_webhook.add_catch(sfn.Pass(scope, "No webhook in time"), errors=["States.Timeout"])
    finished = sfn.Fail(scope, "Webhook saw final status", error=RACE_FINISHED, cause="The webhook arrived first")
    return wait_for_webhook.next(finished)


def _finalize(scope: Construct, finalize_fn: lambda_.IFunction) -> tasks.LambdaInvoke:
    finalize = tasks.LambdaInvoke(
        scope, "Finalize", lambda_function=finalize_fn,
        payload=sfn.TaskInput.from_object({
            "job_id": sfn.JsonPath.string_at("$.job_id"),
            "task_id": sfn.JsonPath.string_at("$.task_id"),
        }),
        payload_response_only=True, result_path="$.outcome",
        task_timeout=sfn.Timeout.duration(Duration.minutes(15)),
    )
    _retry_transient(finalize)
    failed = sfn.Fail(scope, "Vendor task failed", error_path="$.outcome.error", cause_path="$.outcome.cause")
    finalize.next(
        sfn.Choice(scope, "Swap succeeded?")
        .when(sfn.Condition.boolean_equals("$.outcome.succeeded", True), sfn.Succeed(scope, "Done"))
        .otherwise(failed)
    )
    return finalize


def _record_failure(scope: Construct, record_fn: lambda_.IFunction) -> sfn.IChainable:
    record = tasks.LambdaInvoke(
        scope, "Record failure", lambda_function=record_fn,
        payload=sfn.TaskInput.from_object({
            "job_id": sfn.JsonPath.string_at("$.job_id"),
            "task_id": sfn.JsonPath.string_at("$.task_id"),
            "error": sfn.JsonPath.object_at("$.error"),
        }),
        result_path=sfn.JsonPath.DISCARD, task_timeout=sfn.Timeout.duration(Duration.seconds(60)),
    )
    record.add_retry(errors=["States.ALL"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2)
    return record.next(sfn.Fail(scope, "Job failed", error_path="$.error.Error", cause_path="$.error.Cause"))


def _retry_transient(task: tasks.LambdaInvoke) -> None:
    task.add_retry(errors=TRANSIENT_ERRORS, interval=Duration.seconds(5), max_attempts=6, backoff_rate=2,
                   max_delay=Duration.seconds(120), jitter_strategy=sfn.JitterType.FULL)
