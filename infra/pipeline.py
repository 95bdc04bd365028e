"""`FaceSwapPipeline`: the whole system as one reusable construct.

S3 upload → Start job (Lambda) → job state machine (wait for the vendor task → Finalize) → results/ in the same
bucket; a poller state machine polls at polling_interval while the Webhook (API Gateway → Lambda) short-circuits
the wait. Reads top to bottom as the architecture diagram.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from faceswap.layout import METRICS_NAMESPACE, Env
from infra.bundling import DETECTOR_ASSET
from infra.config import PipelineConfig
from infra.functions import FunctionFactory, FunctionSpec
from infra.monitoring import Monitoring
from infra.storage import Storage
from infra.workflow import StateMachineArns, WorkflowFunctions, WorkflowLimits, build_job, build_poller


class FaceSwapPipeline(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: PipelineConfig | None = None,
                 vendor_base_url: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.config = config or PipelineConfig()
        self.storage = Storage(self, "Storage", self.config)
        prefix = f"{Stack.of(self).stack_name}-{construct_id}"
        self._names = {"job": f"{prefix[:72]}-Job", "poller": f"{prefix[:72]}-Poller"}  # <= 80 characters
        self._factory = FunctionFactory(self, self._common_env(vendor_base_url or self.config.vendor_base_url),
                                        _retention(self.config.log_retention_days))
        self.workflow_functions = self._workflow_functions()
        self.poller = self._poller()
        self.state_machine = self._state_machine()
        self.start_dlq = _queue(self, "StartJobDeadLetters")
        self.failed_events_dlq = _queue(self, "ExecutionFailedDeadLetters")
        self.face_detector = self._face_detector() if self.config.face_precheck else None
        self.start_job = self._start_job_function()
        if self.face_detector is not None:
            self._connect_face_precheck(self.start_job, self.face_detector)
        self.failure_recorder = self._failure_recorder()
        self.webhook = self._webhook_function()
        self.api = self._webhook_api()
        self.monitoring = Monitoring(self, "Monitoring", self)

    # --- functions -------------------------------------------------------------------------------------------
    def _common_env(self, vendor_base_url: str) -> dict[str, str]:
        s, c = self.storage, self.config
        return {
            Env.BUCKET_NAME: s.bucket.bucket_name,
            Env.JOBS_TABLE: s.jobs.table_name,
            Env.API_KEY_SECRET_ARN: s.api_key.secret_arn,
            Env.YOUCAM_BASE_URL: vendor_base_url,
            Env.YOUCAM_FILE_PATH: c.vendor_file_path,
            Env.POLLING_INTERVAL_UNIT: c.polling_interval_unit,
            Env.YOUCAM_RETRY_CREATE_ON_SERVER_ERROR: str(c.retry_create_on_server_error).lower(),
            Env.DEFAULT_POLLING_INTERVAL_SECONDS: str(c.default_polling_interval_seconds),
            Env.VIDEOS_PREFIX: c.videos_prefix, Env.FACES_PREFIX: c.faces_prefix,
            Env.JOBS_PREFIX: c.jobs_prefix, Env.RESULTS_PREFIX: c.results_prefix,
            Env.POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            Env.POWERTOOLS_LOG_LEVEL: "INFO",
        }

    def _workflow_functions(self) -> WorkflowFunctions:
        s, f = self.storage, self._factory
        # One quick retry at most: the poller's next poll is the retry, and waiting in the poller costs a quarter
        # of waiting in a 256 MB Lambda.
        check = f.create("CheckStatus", FunctionSpec("check_status", "One poll of the vendor task",
                                                     Duration.seconds(30), environment={
                                                         Env.YOUCAM_MAX_RETRIES: "1",
                                                         Env.YOUCAM_MAX_RETRY_AFTER_SECONDS: "5"}))
        await_webhook = f.create("AwaitWebhook", FunctionSpec(
            "await_webhook", "Stores the task token against the vendor task id", Duration.seconds(15)))
        finalize = f.create("Finalize", FunctionSpec(
            "finalize", "Streams the result into results/ and writes status.json", Duration.minutes(10), 512))
        record = f.create("RecordFailure", FunctionSpec(
            "record_failure", "Writes error.json for a failed job", Duration.seconds(30)))
        for fn in (check, finalize):
            s.api_key.grant_read(fn)
        for fn in (await_webhook, finalize, record):
            s.jobs.grant_read_write_data(fn)
        for fn in (finalize, record):
            s.bucket.grant_put(fn, f"{self.config.results_prefix}*")
        self._grant_task_response(await_webhook)
        return WorkflowFunctions(check, await_webhook, finalize, record)

    def _start_job_function(self) -> lambda_.Function:
        s, c = self.storage, self.config
        timeout = Duration.minutes(10)
        # A claim held longer than the function can run belongs to a dead attempt (a minute of clock margin).
        claim_lease = timeout.to_seconds() + 60
        fn = self._factory.create("StartJob", FunctionSpec(
            "start_job", "Validates an upload, creates the vendor task, starts the execution",
            timeout, 512, {Env.STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
                           Env.START_TIMEOUT_SECONDS: str(int(claim_lease))}))
        fn.configure_async_invoke(retry_attempts=2, max_event_age=Duration.hours(6),
                                  on_failure=destinations.SqsDestination(self.start_dlq))
        for prefix in (c.videos_prefix, c.faces_prefix, c.jobs_prefix):
            s.bucket.grant_read(fn, f"{prefix}*")
        s.bucket.grant_put(fn, f"{c.results_prefix}*")
        s.jobs.grant_read_write_data(fn)
        s.api_key.grant_read(fn)
        self.state_machine.grant_start_execution(fn)
        for prefix in (c.jobs_prefix, c.videos_prefix):
            s.bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(fn),
                                            s3.NotificationKeyFilter(prefix=prefix))
        return fn

    def _face_detector(self) -> lambda_.Function:
        """The face pre-check (its own asset: OpenCV); reads the inputs, nothing else."""
        s, c = self.storage, self.config
        fn = self._factory.create("DetectFaces", FunctionSpec(
            "detect_faces", "Face pre-check: OpenCV Haar cascade on sampled video frames and the face photo",
            FACE_DETECTOR_TIMEOUT, 2048, asset=DETECTOR_ASSET,
            # numpy's OpenBLAS starts a spinning thread per core at import (~150 ms of CPU here) for BLAS that the
            # Haar cascade never uses: one thread, so a cold start does not burn CPU the function pays for.
            environment={Env.OPENBLAS_NUM_THREADS: "1"}))
        # GetObject on the two prefixes, nothing else: it only reads objects the start function has found
        # (grant_read would add the bucket-wide s3:List* and GetBucket*).
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[
            s.bucket.arn_for_objects(f"{prefix}*") for prefix in (c.videos_prefix, c.faces_prefix)]))
        return fn

    def _connect_face_precheck(self, start: lambda_.Function, detector: lambda_.Function) -> None:
        """The start function calls the detector synchronously: this one function, no versions or aliases."""
        start.add_environment(Env.FACE_DETECTOR_FUNCTION, detector.function_name)
        start.add_environment(Env.FACE_PRECHECK_SAMPLES, str(self.config.face_precheck_samples))
        start.add_environment(Env.FACE_DETECTOR_TIMEOUT_SECONDS, str(int(FACE_DETECTOR_TIMEOUT.to_seconds())))
        start.add_to_role_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                     resources=[detector.function_arn]))

    def _failure_recorder(self) -> lambda_.Function:
        """Records failures the state machine could not record itself (run timeout, abort, crash)."""
        s = self.storage
        fn = self._factory.create("ExecutionFailed", FunctionSpec(
            "execution_failed", "Writes error.json for executions that failed, timed out or were aborted",
            Duration.seconds(30)))
        s.jobs.grant_read_write_data(fn)
        s.bucket.grant_put(fn, f"{self.config.results_prefix}*")
        events.Rule(
            self, "ExecutionFailedRule",
            description="Failed, timed-out or aborted face-swap executions",
            event_pattern=events.EventPattern(
                source=["aws.states"], detail_type=["Step Functions Execution Status Change"],
                detail={"status": ["FAILED", "TIMED_OUT", "ABORTED"],
                        "stateMachineArn": [self.state_machine.state_machine_arn]}),
            targets=[targets.LambdaFunction(fn, retry_attempts=4, max_event_age=Duration.hours(2),
                                            dead_letter_queue=self.failed_events_dlq)],
        )
        return fn

    def _webhook_function(self) -> lambda_.Function:
        s = self.storage
        fn = self._factory.create("Webhook", FunctionSpec(
            "webhook", "Verifies YouCam webhooks and short-circuits the wait", Duration.seconds(10), 256,
            {Env.WEBHOOK_SECRET_ARN: s.webhook_secrets.secret_arn}))
        s.webhook_secrets.grant_read(fn)
        s.jobs.grant_read_write_data(fn)  # the TASK item is also where deliveries are de-duplicated
        self._grant_task_response(fn)
        return fn

    # --- orchestration and edges ----------------------------------------------------------------------------
    def _poller(self) -> sfn.StateMachine:
        """Express: polls while the job waits, and pays by the second instead of by the state (see workflow.py)."""
        c = self.config
        definition = build_poller(self, self.workflow_functions, self._arns(), c.max_polls)
        poller = sfn.StateMachine(
            self, "Poller", state_machine_name=self._names["poller"],
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.minutes(5), tracing_enabled=True,
            logs=sfn.LogOptions(destination=logs.LogGroup(self, "PollerExecutionLogs",
                                                          retention=_retention(c.log_retention_days)),
                                level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        return poller

    def _state_machine(self) -> sfn.StateMachine:
        c = self.config
        definition = build_job(self, self.workflow_functions, self.poller, WorkflowLimits(
            max_polls=c.max_polls, vendor_wait=Duration.minutes(c.webhook_wait_minutes)))
        return sfn.StateMachine(
            self, "Job", state_machine_name=self._names["job"],
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.minutes(c.run_timeout_minutes),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=logs.LogGroup(self, "JobExecutionLogs",
                                                          retention=_retention(c.log_retention_days)),
                                level=sfn.LogLevel.ALL, include_execution_data=False),
        )

    def _arns(self) -> StateMachineArns:
        # Built from the names, not the constructs, to avoid dependency cycles (the job starts the poller, which
        # signals the job and starts itself; the job invokes functions that signal it).
        stack = Stack.of(self)
        job, poller = (stack.format_arn(service="states", resource="stateMachine", resource_name=self._names[k],
                                        arn_format=ArnFormat.COLON_RESOURCE_NAME) for k in ("job", "poller"))
        return StateMachineArns(job=job, poller=poller)

    def _grant_task_response(self, fn: lambda_.Function) -> None:
        """The webhook and the token store only ever end a job's wait with SendTaskSuccess."""
        fn.add_to_role_policy(iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[self._arns().job]))

    def _webhook_api(self) -> apigw.RestApi:
        c = self.config
        access_logs = logs.LogGroup(self, "WebhookApiAccessLogs", retention=_retention(c.log_retention_days))
        api = apigw.RestApi(
            self, "WebhookApi", description="Receives YouCam webhooks",
            endpoint_types=[apigw.EndpointType.REGIONAL], cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name="prod", tracing_enabled=True,
                throttling_rate_limit=c.webhook_rate_limit_rps, throttling_burst_limit=c.webhook_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False),
                logging_level=apigw.MethodLoggingLevel.ERROR,
            ),
        )
        # Cheap rejection at the edge; the Lambda checks all of it again (signature first).
        validator = api.add_request_validator("WebhookShape", validate_request_parameters=True,
                                              validate_request_body=True)
        model = api.add_model("WebhookEvent", content_type="application/json", schema=apigw.JsonSchema(
            type=apigw.JsonSchemaType.OBJECT, required=["data"],
            properties={"data": apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT,
                                                 required=["task_id", "task_status"])}))
        api.root.add_resource("webhook").add_method(
            "POST", apigw.LambdaIntegration(self.webhook), request_validator=validator,
            request_models={"application/json": model},
            request_parameters={f"method.request.header.{h}": True
                                for h in ("webhook-id", "webhook-timestamp", "webhook-signature")},
        )
        return api


FACE_DETECTOR_TIMEOUT = Duration.seconds(60)  # a 30 s 1080p video takes ~2 s here; 4K a few times that


def _queue(scope: Construct, construct_id: str) -> sqs.Queue:
    return sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=Duration.days(14))


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH, 60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
}


def _retention(days: int) -> logs.RetentionDays:
    if days not in _RETENTION:
        raise ValueError(f"log_retention_days must be one of {sorted(_RETENTION)}, got {days}")
    return _RETENTION[days]
