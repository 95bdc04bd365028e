"""The job workflow: the functions its states call, the job (Standard) and its poller (Express) state machines
(their chains: infra/workflow.py), and the rule that records executions the job could not (run timeout, abort)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from faceswap.budgets import CHECK, EXPRESS_LIMIT_SECONDS, FINALIZE, RECORD_FAILURE, STORE_TOKEN, TaskTiming
from faceswap.layout import ADMISSION_KEY, JOB_KEY_PREFIX, TASK_KEY_PREFIX, Env
from infra.config import PipelineConfig, log_retention
from infra.functions import FunctionFactory, FunctionSpec, grant_task_success
from infra.grants import grant_items, grant_object_writes, grant_secret_value
from infra.storage import dead_letter_queue
from infra.workflow import StateMachineArns, WorkflowFunctions, WorkflowLimits, build_job, build_poller

VENDED_LOGS = "/aws/vendedlogs/states/"  # the state machines' log groups: the prefix AWS asks vended logs to use


@dataclass(frozen=True)
class MachineNames:
    """The state machines' names (<= 80 characters), known before the machines: they start and signal each
    other by ARN, which is built from these."""

    job: str
    poller: str


class JobWorkflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, factory: FunctionFactory,
                 names: MachineNames, bucket: s3.IBucket, jobs: ddb.ITable, api_key: sm.ISecret) -> None:
        super().__init__(scope, construct_id)
        self._config, self._names = config, names
        self.arns = _arns(self, names)
        self.functions = self._functions(factory, bucket, jobs, api_key)
        self.poller = self._poller()
        self.state_machine = self._job()
        self.dead_letters = dead_letter_queue(self, "ExecutionFailedDeadLetters")
        self.execution_failed = self._execution_failed(factory, bucket, jobs)

    def _functions(self, f: FunctionFactory, bucket: s3.IBucket, jobs: ddb.ITable,
                   api_key: sm.ISecret) -> WorkflowFunctions:
        # One quick retry at most, within the function's timeout (2 x (3 + 5) s + <= 3 s): the poller's next poll is
        # the retry, and waiting in the poller costs a quarter of waiting in a 256 MB Lambda.
        check = f.create(self, "CheckStatus", FunctionSpec(
            "check_status", "One poll of the vendor task", _function_timeout(CHECK),
            environment={Env.YOUCAM_MAX_RETRIES: "1", Env.YOUCAM_MAX_RETRY_AFTER_SECONDS: "3",
                         Env.YOUCAM_CONNECT_TIMEOUT_SECONDS: "3", Env.YOUCAM_READ_TIMEOUT_SECONDS: "5"}))
        store_token = f.create(self, "StoreToken", FunctionSpec(
            "store_token", "Stores the task token against the vendor task id", _function_timeout(STORE_TOKEN)))
        # Five minutes stream a result (<= 100 MB) at 0.35 MB/s; a longer timeout would not fit the run timeout.
        finalize = f.create(self, "Finalize", FunctionSpec(
            "finalize", "Streams the result into results/ and writes status.json", _function_timeout(FINALIZE), 512))
        record = f.create(self, "RecordFailure", FunctionSpec(
            "record_failure", "Writes error.json for a failed job", _function_timeout(RECORD_FAILURE)))
        for fn in (check, finalize):
            grant_secret_value(fn, api_key)
        grant_items(store_token, jobs, ["UpdateItem"], [TASK_KEY_PREFIX])  # park the token on the task's item
        for fn in (finalize, record):  # read the job's record, mark it final, give its admission slot back
            grant_items(fn, jobs, ["GetItem", "UpdateItem"], [JOB_KEY_PREFIX, ADMISSION_KEY])
        # Finalize streams output.mp4 in parts (and aborts the upload when the stream fails); both write JSON files.
        grant_object_writes(finalize, bucket, self._config.results_prefix, multipart=True)
        grant_object_writes(record, bucket, self._config.results_prefix, multipart=False)
        grant_task_success(store_token, self.arns.job)
        return WorkflowFunctions(check, store_token, finalize, record)

    def _poller(self) -> sfn.StateMachine:
        """Express: polls while the job waits, and pays by the second instead of by the state (see workflow.py)."""
        definition = build_poller(self, self.functions, self.arns, self._config.max_polls)
        return sfn.StateMachine(
            self, "Poller", state_machine_name=self._names.poller,
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.seconds(EXPRESS_LIMIT_SECONDS), tracing_enabled=True,
            logs=self._execution_logs("PollerExecutionLogs", self._names.poller))

    def _job(self) -> sfn.StateMachine:
        c = self._config
        definition = build_job(self, self.functions, self.poller, WorkflowLimits(
            max_polls=c.max_polls, vendor_wait=Duration.minutes(c.webhook_wait_minutes)))
        return sfn.StateMachine(
            self, "Job", state_machine_name=self._names.job,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.minutes(c.run_timeout_minutes), tracing_enabled=True,
            logs=self._execution_logs("JobExecutionLogs", self._names.job))

    def _execution_logs(self, construct_id: str, machine_name: str) -> sfn.LogOptions:
        """Under /aws/vendedlogs/: CloudWatch Logs then needs no resource-policy entry per group (the account's one
        policy is limited to 5,120 characters). Named, so deleted with the stack: a retained group of that name
        would stop the next deployment."""
        group = logs.LogGroup(self, construct_id, log_group_name=f"{VENDED_LOGS}{machine_name}",
                              retention=log_retention(self._config.log_retention_days),
                              removal_policy=RemovalPolicy.DESTROY)
        return sfn.LogOptions(destination=group, level=sfn.LogLevel.ALL, include_execution_data=False)

    def _execution_failed(self, factory: FunctionFactory, bucket: s3.IBucket, jobs: ddb.ITable) -> lambda_.Function:
        """Records failures the state machine could not record itself (run timeout, abort, crash)."""
        fn = factory.create(self, "ExecutionFailed", FunctionSpec(
            "execution_failed", "Writes error.json for executions that failed, timed out or were aborted",
            Duration.seconds(30)))
        grant_items(fn, jobs, ["GetItem", "UpdateItem"], [JOB_KEY_PREFIX, ADMISSION_KEY])
        grant_object_writes(fn, bucket, self._config.results_prefix, multipart=False)
        events.Rule(
            self, "ExecutionFailedRule",
            description="Failed, timed-out or aborted face-swap executions",
            event_pattern=events.EventPattern(
                source=["aws.states"], detail_type=["Step Functions Execution Status Change"],
                detail={"status": ["FAILED", "TIMED_OUT", "ABORTED"],
                        "stateMachineArn": [self.state_machine.state_machine_arn]}),
            targets=[targets.LambdaFunction(fn, retry_attempts=4, max_event_age=Duration.hours(2),
                                            dead_letter_queue=self.dead_letters)],
        )
        return fn


def _function_timeout(timing: TaskTiming) -> Duration:
    return Duration.seconds(timing.function_timeout_seconds)


def _arns(scope: Construct, names: MachineNames) -> StateMachineArns:
    # Built from the names, not the constructs, to avoid dependency cycles (the job starts the poller, which
    # signals the job and starts itself; the job invokes functions that signal it).
    stack = Stack.of(scope)
    job, poller = (stack.format_arn(service="states", resource="stateMachine", resource_name=name,
                                    arn_format=ArnFormat.COLON_RESOURCE_NAME) for name in (names.job, names.poller))
    return StateMachineArns(job=job, poller=poller)
