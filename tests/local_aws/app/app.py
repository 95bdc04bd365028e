"""A tiny CDK app that exercises every path of the local AWS harness (synthesized by the test session).

Bucket (in/ -> Ingest, async with retries and a dead-letter queue), table with TTL, generated secret, a state
machine racing a polling loop (Wait SecondsPath -> Check -> Choice) against a waitForTaskToken callback that a
webhook behind a REST API completes, an EventBridge rule for failed executions, an alarm with an SNS topic, and
event source mappings: two queues (partial batch responses, a concurrency cap and a dead-letter queue; a batching
window) feeding one worker, and a table's stream feeding a consumer through filters, with bisection, retries and an
on-failure queue.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.bundling import SHARED_ASSET, build_lambda_asset, local_target

FUNCTIONS = Path(__file__).resolve().parent / "functions"
STACK_NAME = "HarnessTest"
# What the probe imports beyond the Lambda runtime's own packages: Powertools' Logger and Tracer.
POWERTOOLS = ("aws_lambda_powertools", "aws_xray_sdk", "wrapt", "typing_extensions.py")


def probe_bundle() -> Path:
    """The probe's folder plus Powertools, taken from the project's asset as built for the local workers: the
    runtime provides boto3 only, so a bundle brings everything else it imports (as on Lambda)."""
    asset, _ = build_lambda_asset(SHARED_ASSET, local_target())
    bundle = Path(tempfile.mkdtemp(prefix="probe-bundle-", dir=os.environ.get("CDK_OUTDIR")))
    shutil.copytree(FUNCTIONS / "probe", bundle, dirs_exist_ok=True)
    for name in POWERTOOLS:
        copy = shutil.copytree if (asset / name).is_dir() else shutil.copy2
        copy(asset / name, bundle / name)
    return bundle


class HarnessStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        greeting = cdk.CfnParameter(self, "Greeting", type="String", default="hello")
        self.bucket = s3.Bucket(self, "Uploads", enforce_ssl=True, auto_delete_objects=True,
                                removal_policy=cdk.RemovalPolicy.DESTROY)
        self.table = ddb.Table(self, "Items", partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
                               billing_mode=ddb.BillingMode.PAY_PER_REQUEST, time_to_live_attribute="expires",
                               removal_policy=cdk.RemovalPolicy.DESTROY)
        self.secret = sm.Secret(self, "ApiKey", generate_secret_string=sm.SecretStringGenerator(
            secret_string_template='{"user": "demo"}', generate_string_key="key", exclude_punctuation=True))
        env = {"TABLE_NAME": self.table.table_name, "SECRET_ARN": self.secret.secret_arn,
               "GREETING": greeting.value_as_string}
        self.probe = self._function("Probe", "probe", env, timeout_s=2, code=probe_bundle())
        machine = self._state_machine(env)
        self._ingest(env, machine)
        self._api(env)
        self._failure_rule(env, machine)
        self._alarm()
        self._queue_sources(env)
        self._stream_source(env)
        cdk.CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "StateMachineArn", value=machine.state_machine_arn)

    def _function(self, construct_id: str, folder: str, env: dict[str, str], timeout_s: int = 10,
                  code: Path | None = None) -> lambda_.Function:
        fn = lambda_.Function(self, construct_id, runtime=lambda_.Runtime.PYTHON_3_13, handler="handler.handler",
                              code=lambda_.Code.from_asset(str(code or FUNCTIONS / folder)),
                              timeout=cdk.Duration.seconds(timeout_s), memory_size=256, environment=env)
        self.table.grant_read_write_data(fn)
        self.secret.grant_read(fn)
        return fn

    def _state_machine(self, env: dict[str, str]) -> sfn.StateMachine:
        check = tasks.LambdaInvoke(self, "Check", lambda_function=self._function("CheckFn", "check", env),
                                   result_path="$.check", payload_response_only=False)
        wait = sfn.Wait(self, "WaitForPoll", time=sfn.WaitTime.seconds_path("$.wait_seconds"))
        finished = sfn.Fail(self, "PolledDone", error="Job.Finished")
        poll_loop = wait.next(check).next(sfn.Choice(self, "Done?").when(
            sfn.Condition.boolean_equals("$.check.Payload.done", True), finished).otherwise(wait))
        await_token = tasks.LambdaInvoke(
            self, "AwaitToken", lambda_function=self._function("TokenFn", "token", env),
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object({"token": sfn.JsonPath.task_token, "job.$": "$.job"}))
        callback = await_token.next(sfn.Fail(self, "CalledBack", error="Job.Finished"))
        race = sfn.Parallel(self, "Race").branch(poll_loop).branch(callback)
        race.add_catch(sfn.Succeed(self, "Finished"), errors=["Job.Finished"])
        definition = sfn.Pass(self, "Prep").next(race)
        return sfn.StateMachine(self, "Flow", definition_body=sfn.DefinitionBody.from_chainable(definition))

    def _ingest(self, env: dict[str, str], machine: sfn.StateMachine) -> None:
        dead_letters = sqs.Queue(self, "IngestDeadLetters", enforce_ssl=True)
        ingest = self._function("Ingest", "ingest", {**env, "STATE_MACHINE_ARN": machine.state_machine_arn})
        ingest.configure_async_invoke(retry_attempts=2, on_failure=destinations.SqsDestination(dead_letters))
        machine.grant_start_execution(ingest)
        self.bucket.grant_read(ingest)
        self.bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(ingest),
                                           s3.NotificationKeyFilter(prefix="in/"))
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=dead_letters.queue_url)

    def _api(self, env: dict[str, str]) -> None:
        webhook = self._function("Webhook", "webhook", env)
        api = apigw.RestApi(self, "Api", deploy_options=apigw.StageOptions(stage_name="prod"),
                            binary_media_types=["application/octet-stream"])
        validator = api.add_request_validator("Headers", validate_request_parameters=True)
        api.root.add_resource("hook").add_method(
            "POST", apigw.LambdaIntegration(webhook), request_validator=validator,
            request_parameters={"method.request.header.x-signature": True})
        api.root.add_resource("{proxy+}").add_method("ANY", apigw.LambdaIntegration(self.probe))
        api.root.add_resource("slow").add_method(
            "GET", apigw.LambdaIntegration(self.probe, timeout=cdk.Duration.seconds(1)))
        cdk.CfnOutput(self, "ApiUrl", value=api.url)

    def _failure_rule(self, env: dict[str, str], machine: sfn.StateMachine) -> None:
        recorder = self._function("Recorder", "recorder", env)
        events.Rule(self, "ExecutionFailed", event_pattern=events.EventPattern(
            source=["aws.states"], detail_type=["Step Functions Execution Status Change"],
            detail={"status": ["FAILED", "TIMED_OUT"], "stateMachineArn": [machine.state_machine_arn]}),
            targets=[targets.LambdaFunction(recorder, retry_attempts=2)])

    def _alarm(self) -> None:
        topic = sns.Topic(self, "Alarms", enforce_ssl=True)
        topic.add_subscription(subs.EmailSubscription("ops@example.com"))
        alarm = cw.Alarm(self, "ProbeErrors", metric=self.probe.metric_errors(), threshold=1, evaluation_periods=1)
        alarm.add_alarm_action(cw_actions.SnsAction(topic))


    def _queue_sources(self, env: dict[str, str]) -> None:
        worker = self._function("Worker", "worker", env, timeout_s=20)
        dead_letters = sqs.Queue(self, "WorkDeadLetters")
        work = sqs.Queue(self, "WorkQueue", visibility_timeout=cdk.Duration.seconds(120),
                         dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=2))
        worker.add_event_source(sources.SqsEventSource(work, batch_size=5, report_batch_item_failures=True,
                                                       max_concurrency=2))
        plain = sqs.Queue(self, "PlainQueue", visibility_timeout=cdk.Duration.seconds(300))  # > the window
        worker.add_event_source(sources.SqsEventSource(plain, batch_size=10,
                                                       max_batching_window=cdk.Duration.seconds(60)))
        for name, queue in (("WorkQueueUrl", work), ("WorkDeadLettersUrl", dead_letters), ("PlainQueueUrl", plain)):
            cdk.CfnOutput(self, name, value=queue.queue_url)

    def _stream_source(self, env: dict[str, str]) -> None:
        events_table = ddb.Table(self, "Events", partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
                                 billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
                                 stream=ddb.StreamViewType.NEW_AND_OLD_IMAGES, removal_policy=cdk.RemovalPolicy.DESTROY)
        failures = sqs.Queue(self, "StreamFailures")
        consumer = self._function("StreamConsumer", "stream", env)
        rule = lambda_.FilterRule
        jobs = lambda_.FilterCriteria.filter({"dynamodb": {"Keys": {"pk": {"S": rule.begins_with("JOB#")}}}})
        flagged = lambda_.FilterCriteria.filter({"dynamodb": {"NewImage": {
            "kind": {"S": rule.not_equals("boring")}, "flag": {"BOOL": rule.exists()}}}})
        consumer.add_event_source(sources.DynamoEventSource(
            events_table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=3,
            bisect_batch_on_error=True, retry_attempts=1, on_failure=sources.SqsDlq(failures), filters=[jobs, flagged]))
        cdk.CfnOutput(self, "EventsTableName", value=events_table.table_name)
        cdk.CfnOutput(self, "StreamFailuresUrl", value=failures.queue_url)


def main() -> None:
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    HarnessStack(app, STACK_NAME, env=cdk.Environment(account="123456789012", region="us-east-1"))
    app.synth()


if __name__ == "__main__":
    main()
