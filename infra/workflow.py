"""The two state machines: the job (Standard, what the console shows) and its poller (Express, what it pays for).

    Job:     Wait for the vendor task ──(token back: success)──> Finalize → end
             any error (a failed vendor task, the poll limit, timeouts...) → Record failure (error.json) → Job failed
    Poller:  Store token for the webhook → Webhook already in? ─(yes)→ end
             Wait polling_interval → Job still waiting? ─(no: token spent)→ end
             → Check task status → Task finished? ─(no)─┐ (loop)
             ▲──────────────────────────────────────────┘
             success → Signal the job (SendTaskSuccess)
             vendor task failed, poll limit, errors → Fail the job (SendTaskFailure: Vendor.<engine code>, ...)
             near the Express limit of 5 minutes → Hand over to a fresh poller

The job waits on a task token. The vendor's webhook (webhook function: a verified "success" delivery) or the
poller, whichever sees the end first, hands the token back and short-circuits the wait; the other's signal is
refused (the token is single-use). A failed task is reported by the poller, which reads the engine code from the
API: the webhook's body is not trusted with failures, and a failed job loses nothing by waiting one more poll.

Why two machines: a Standard workflow bills each state transition ($25 per million), and a poll is three states
every polling_interval; an Express workflow bills duration at 64 MB, about a quarter of a sleeping 256 MB Lambda.
So the job keeps what needs Standard (the callback wait, exactly-once Finalize, a history in the console) in two
transitions when it succeeds, and the waiting costs Express seconds.

Every task's timeout and retries come from faceswap.budgets, whose sums (a poller's worst case, the heartbeat gaps,
the job's nested timeouts) tests/infra/test_time_budgets.py proves on the synthesized definitions.
"""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from botocore.exceptions import ClientError
from constructs import Construct
from pydantic import BaseModel

from faceswap.budgets import AWS_CALL, CHECK, FINALIZE, JOB_HEARTBEAT_SECONDS, RECORD_FAILURE, STORE_TOKEN, TaskTiming
from faceswap.errors import POLL_LIMIT_REACHED, POLLER_FAILED, TaskStillRunning, VendorUnavailable
from faceswap.layout import POLLER_NAME_FORMAT
from faceswap.states import (
    CheckStatusInput,
    ExecutionInput,
    FinalizeInput,
    JobState,
    PollerInput,
    PollerState,
    RecordFailureInput,
    StateError,
    StoreTokenInput,
)
from infra.config import ConfigError
from infra.paths import fields, path

# Raised by handlers (errorType = exception class name) for faults worth retrying with backoff.
TRANSIENT_ERRORS = [VendorUnavailable.__name__, TaskStillRunning.__name__]
# A poll that ran out of time (the Lambda's own timeout, or the task's) only read a status: safe to repeat; so is
# storing the token.
POLL_TIMEOUTS = ["States.Timeout", "Sandbox.Timedout"]
# A function's own AWS call refused after botocore's retries (throttled DynamoDB, Secrets Manager or SendTaskSuccess;
# the errorType is botocore's class: ClientError, or the error code where the service models it). Both poller
# functions are safe to repeat: storing the token again re-signals at most a spent token; a check only reads.
AWS_CALL_REFUSED = [ClientError.__name__, "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                    "InternalServerError", "InternalServiceError"]
# Lambda's own faults, retried briefly inside the poller (CDK's default retry would take up to two minutes).
LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                         "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException"]
# A call that timed out (AWS_CALL's timeout) is repeated too: each is harmless twice (a second SendTask* finds the token
# spent, a second hand-over starts one more poller, which ends at its first heartbeat after the job's end).
SFN_TRANSIENT_ERRORS = ["Sfn.SdkClientException", "Sfn.ThrottlingException", "States.Timeout"]
# SendTask* on a token that was already used (the webhook was first) or whose job ended (stopped, timed out).
TOKEN_SPENT = ["Sfn.TaskTimedOutException", "Sfn.InvalidTokenException", "Sfn.TaskDoesNotExistException"]


@dataclass(frozen=True)
class WorkflowFunctions:
    check_status: lambda_.IFunction
    store_token: lambda_.IFunction
    finalize: lambda_.IFunction
    record_failure: lambda_.IFunction


@dataclass(frozen=True)
class WorkflowLimits:
    max_polls: int
    vendor_wait: Duration  # how long the job waits for its token before it fails


@dataclass(frozen=True)
class StateMachineArns:
    """Built from the machines' names: the poller signals the job and starts itself, the job starts the poller."""

    job: str
    poller: str


def build_job(parent: Construct, fns: WorkflowFunctions, poller: sfn.IStateMachine,
              limits: WorkflowLimits) -> sfn.IChainable:
    if limits.vendor_wait.to_seconds() <= JOB_HEARTBEAT_SECONDS:  # Step Functions refuses the definition
        raise ConfigError(f"the job's wait ({limits.vendor_wait.to_minutes()} min) must be longer than its "
                          f"heartbeat timeout ({JOB_HEARTBEAT_SECONDS} s)")
    scope = Construct(parent, "JobStates")  # state names are construct ids: keep them apart from the functions'
    record_failure = _record_failure(scope, fns.record_failure)
    wait = tasks.StepFunctionsStartExecution(
        scope, "Wait for the vendor task", state_machine=poller,
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        input=sfn.TaskInput.from_object(fields(
            PollerInput, token=sfn.JsonPath.task_token, **_ids(ExecutionInput),
            poll=sfn.JsonPath.object_at(path(ExecutionInput, "poll")))),
        name=sfn.JsonPath.format(POLLER_NAME_FORMAT, sfn.JsonPath.string_at(path(JobState, "job_id")), "0"),
        associate_with_parent=True,
        result_path=path(JobState, "wait"), task_timeout=sfn.Timeout.duration(limits.vendor_wait),
        # The poller beats before every poll (faceswap.budgets): a job whose poller died (failed, hit the Express
        # limit) ends this long after the last beat instead of at its wait timeout.
        heartbeat_timeout=sfn.Timeout.duration(Duration.seconds(JOB_HEARTBEAT_SECONDS)),
    )
    wait.add_catch(record_failure, errors=["States.ALL"], result_path=path(JobState, "error"))
    finalize = _finalize(scope, fns.finalize)
    finalize.add_catch(record_failure, errors=["States.ALL"], result_path=path(JobState, "error"))
    return wait.next(finalize)  # the end: two transitions for a job that succeeds


def build_poller(parent: Construct, fns: WorkflowFunctions, arns: StateMachineArns,
                 max_polls: int) -> sfn.IChainable:
    scope = Construct(parent, "PollerStates")
    fail_job = _fail_job(scope, arns.job)
    register = tasks.LambdaInvoke(
        scope, "Store token for the webhook", lambda_function=fns.store_token,
        payload=sfn.TaskInput.from_object(fields(
            StoreTokenInput, token=sfn.JsonPath.string_at(path(PollerState, "token")), **_ids(PollerState))),
        payload_response_only=True, result_path=path(PollerState, "registration"), retry_on_service_exceptions=False,
        task_timeout=_timeout(STORE_TOKEN),
    )
    _retry(register, LAMBDA_SERVICE_ERRORS + POLL_TIMEOUTS + AWS_CALL_REFUSED, STORE_TOKEN)
    register.add_catch(fail_job, errors=["States.ALL"], result_path=path(PollerState, "error"))
    wait = sfn.Wait(scope, "Wait polling_interval",
                    time=sfn.WaitTime.seconds_path(path(PollerState, "poll", "interval_seconds")))
    check = _check(scope, fns.check_status)
    check.add_catch(fail_job, errors=["States.ALL"], result_path=path(PollerState, "error"))
    already = (
        sfn.Choice(scope, "Webhook already in?")
        .when(sfn.Condition.boolean_equals(path(PollerState, "registration", "signalled"), True),
              sfn.Succeed(scope, "Ended by the webhook"))
        .otherwise(wait)
    )
    wait.next(_heartbeat(scope, arns.job)).next(check).next(_decide(scope, arns, max_polls, fail_job, wait))
    return register.next(already)


def _decide(scope: Construct, arns: StateMachineArns, max_polls: int, fail_job: sfn.IChainable,
            wait: sfn.Wait) -> sfn.Choice:
    final = sfn.Condition.boolean_equals(_poll("final"), True)
    return (
        sfn.Choice(scope, "Task finished?")
        .when(sfn.Condition.and_(final, sfn.Condition.string_equals(_poll("status"), "success")),
              _signal_job(scope, arns.job))
        .when(final, sfn.Pass(scope, "Vendor task failed", input_path=_poll("vendor_error"),
                              result_path=path(PollerState, "error")).next(fail_job))
        .when(sfn.Condition.number_greater_than_equals(_poll("count"), max_polls),
              _poll_limit(scope, max_polls, fail_job))
        .when(sfn.Condition.boolean_equals(_poll("hand_over"), True), _hand_over(scope, arns.poller))
        .otherwise(wait)
    )


def _heartbeat(scope: Construct, job_arn: str) -> tasks.CallAwsService:
    """Before each poll: is the job still waiting? If the webhook ended the wait, or the job was stopped or timed
    out, the token is spent and the poller ends instead of polling on. The heartbeat also tells the job that its
    poller lives (the job's wait has a heartbeat timeout)."""
    beat = tasks.CallAwsService(
        scope, "Job still waiting?", service="sfn", action="sendTaskHeartbeat",
        parameters={"TaskToken": sfn.JsonPath.string_at(path(PollerState, "token"))},
        iam_resources=[job_arn], iam_action="states:SendTaskHeartbeat", result_path=sfn.JsonPath.DISCARD,
        task_timeout=_timeout(AWS_CALL),
    )
    _retry(beat, SFN_TRANSIENT_ERRORS, AWS_CALL)
    beat.add_catch(sfn.Succeed(scope, "Job no longer waiting"), errors=TOKEN_SPENT)
    return beat


def _check(scope: Construct, check_status: lambda_.IFunction) -> tasks.LambdaInvoke:
    check = tasks.LambdaInvoke(
        scope, "Check task status", lambda_function=check_status,
        payload=sfn.TaskInput.from_object(fields(
            CheckStatusInput, **_ids(PollerState), poll=sfn.JsonPath.object_at(path(PollerState, "poll")),
            poller_started=sfn.JsonPath.string_at("$$.Execution.StartTime"))),
        payload_response_only=True, result_path=path(PollerState, "poll"), retry_on_service_exceptions=False,
        task_timeout=_timeout(CHECK),
    )
    # Brief retries: the poller lives at most 5 minutes. (A vendor 429/5xx is not an error here: check_status
    # answers "not final" and the next poll is the retry.)
    _retry(check, LAMBDA_SERVICE_ERRORS + POLL_TIMEOUTS + AWS_CALL_REFUSED, CHECK)
    return check


def _signal_job(scope: Construct, job_arn: str) -> sfn.IChainable:
    signal = tasks.CallAwsService(
        scope, "Signal the job", service="sfn", action="sendTaskSuccess",
        parameters={"TaskToken": sfn.JsonPath.string_at(path(PollerState, "token")),
                    "Output": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(path(PollerState, "poll")))},
        iam_resources=[job_arn], iam_action="states:SendTaskSuccess", result_path=sfn.JsonPath.DISCARD,
        task_timeout=_timeout(AWS_CALL),
    )
    _retry(signal, SFN_TRANSIENT_ERRORS, AWS_CALL)
    signal.add_catch(sfn.Succeed(scope, "The webhook was first"), errors=TOKEN_SPENT)
    return signal.next(sfn.Succeed(scope, "Ended by polling"))


def _poll_limit(scope: Construct, max_polls: int, fail_job: sfn.IChainable) -> sfn.IChainable:
    reached = sfn.Pass(scope, "Poll limit reached", result_path=path(PollerState, "error"),
                       result=sfn.Result.from_object(fields(
                           StateError, Error=POLL_LIMIT_REACHED,
                           Cause=f"The vendor task did not finish within {max_polls} polls")))
    return reached.next(fail_job)


def _fail_job(scope: Construct, job_arn: str) -> sfn.IChainable:
    """Hands the error ($.error: Error, Cause) to the job, which records it. Step Functions' own errors (a check
    that timed out, say) are renamed: error names given to SendTaskFailure must not begin with "States.". If even
    that fails, the poller fails (alarmed) and the job ends at its heartbeat timeout."""
    fail = _send_task_failure(scope, job_arn)
    renamed = sfn.Pass(scope, "Name it PollerFailed", result_path=path(PollerState, "error"), parameters=fields(
        StateError, Error=POLLER_FAILED,
        Cause=sfn.JsonPath.format("{}: {}", sfn.JsonPath.string_at(_error("Error")),
                                  sfn.JsonPath.string_at(_error("Cause")))))
    renamed.next(fail)
    return (sfn.Choice(scope, "Step Functions error?")
            .when(sfn.Condition.string_matches(_error("Error"), "States.*"), renamed)
            .otherwise(fail))


def _send_task_failure(scope: Construct, job_arn: str) -> sfn.IChainable:
    fail = tasks.CallAwsService(
        scope, "Fail the job", service="sfn", action="sendTaskFailure",
        parameters={"TaskToken": sfn.JsonPath.string_at(path(PollerState, "token")),
                    "Error": sfn.JsonPath.string_at(_error("Error")),
                    "Cause": sfn.JsonPath.string_at(_error("Cause"))},
        iam_resources=[job_arn], iam_action="states:SendTaskFailure", result_path=sfn.JsonPath.DISCARD,
        task_timeout=_timeout(AWS_CALL),
    )
    _retry(fail, SFN_TRANSIENT_ERRORS, AWS_CALL)
    fail.add_catch(sfn.Succeed(scope, "Job already ended"), errors=TOKEN_SPENT)
    return fail.next(sfn.Succeed(scope, "Job told of the failure"))


def _hand_over(scope: Construct, poller_arn: str) -> sfn.IChainable:
    """An Express execution lasts at most 5 minutes: a fresh one takes the token and the poll count on."""
    start = tasks.CallAwsService(
        scope, "Hand over to a fresh poller", service="sfn", action="startExecution",
        parameters={"StateMachineArn": poller_arn,
                    # `<job>_<polls so far>` (faceswap.layout.poller_name): no other poller's name.
                    "Name": sfn.JsonPath.format(POLLER_NAME_FORMAT,
                                                sfn.JsonPath.string_at(path(PollerState, "job_id")),
                                                sfn.JsonPath.string_at(_poll("count"))),
                    "Input": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$"))},
        iam_resources=[poller_arn], iam_action="states:StartExecution", result_path=sfn.JsonPath.DISCARD,
        task_timeout=_timeout(AWS_CALL),
    )
    _retry(start, SFN_TRANSIENT_ERRORS, AWS_CALL)
    return start.next(sfn.Succeed(scope, "Handed over"))


def _finalize(scope: Construct, finalize_fn: lambda_.IFunction) -> tasks.LambdaInvoke:
    finalize = tasks.LambdaInvoke(
        scope, "Finalize", lambda_function=finalize_fn,
        payload=sfn.TaskInput.from_object(fields(FinalizeInput, **_ids(JobState))),
        payload_response_only=True, result_path=path(JobState, "outcome"), retry_on_service_exceptions=False,
        task_timeout=_timeout(FINALIZE),
    )
    # Its worst case (faceswap.budgets) must fit in the run timeout after the wait: a few patient retries.
    _retry(finalize, TRANSIENT_ERRORS + LAMBDA_SERVICE_ERRORS, FINALIZE)
    return finalize


def _record_failure(scope: Construct, record_fn: lambda_.IFunction) -> sfn.IChainable:
    record = tasks.LambdaInvoke(
        scope, "Record failure", lambda_function=record_fn,
        payload=sfn.TaskInput.from_object(fields(
            RecordFailureInput, **_ids(JobState), error=sfn.JsonPath.object_at(path(JobState, "error")))),
        result_path=sfn.JsonPath.DISCARD, retry_on_service_exceptions=False, task_timeout=_timeout(RECORD_FAILURE),
    )
    _retry(record, ["States.ALL"], RECORD_FAILURE)
    return record.next(sfn.Fail(scope, "Job failed", error_path=path(JobState, "error", "Error"),
                                cause_path=path(JobState, "error", "Cause")))


def _retry(task: sfn.TaskStateBase, errors: list[str], timing: TaskTiming) -> None:
    """The one Retry rule of a task, as faceswap.budgets counts it (a task's worst case sums all of its rules)."""
    r = timing.retry
    task.add_retry(errors=errors, interval=Duration.seconds(r.interval_seconds), max_attempts=r.max_attempts,
                   backoff_rate=r.backoff_rate, jitter_strategy=sfn.JitterType.FULL,
                   max_delay=None if r.max_delay_seconds is None else Duration.seconds(r.max_delay_seconds))


def _timeout(timing: TaskTiming) -> sfn.Timeout:
    return sfn.Timeout.duration(Duration.seconds(timing.timeout_seconds))


def _ids(state: type[BaseModel]) -> dict[str, str]:
    """The job and vendor task ids, which every function's payload carries, from the state's own fields."""
    return {name: sfn.JsonPath.string_at(path(state, name)) for name in ("job_id", "task_id")}


def _poll(name: str) -> str:
    """$.poll.<name> of the poller: check_status's answer (PollState)."""
    return path(PollerState, "poll", name)


def _error(name: str) -> str:
    """$.error.<name> of the poller: the error it hands to the job (StateError)."""
    return path(PollerState, "error", name)
