"""Alarms on what would otherwise fail quietly: failed executions, webhook errors, Lambda errors, dead letters, late
job events, and jobs waiting in front of the vendor longer than they should.

Handed what it watches, nothing more: the two state machines, the webhook API, the functions, the start queue, the
job events' publisher, the dead-letter queues and whether the face pre-check is deployed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from faceswap.layout import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)
JOB_EVENTS_MAX_DELAY_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class Watched:
    job: sfn.IStateMachine
    poller: sfn.IStateMachine
    api: apigw.RestApi
    functions: Sequence[lambda_.IFunction]  # alarmed on errors, named by construct id
    start_queue: sqs.IQueue
    start_dead_letters: sqs.IQueue
    execution_failed_dead_letters: sqs.IQueue
    event_publisher: lambda_.IFunction  # reads the Jobs table's stream
    job_events_dead_letters: sqs.IQueue
    face_precheck: bool  # the start function's FacePrecheck_unavailable metric exists
    max_queue_wait_seconds: int  # a job waiting half of this is worth a look
    backlog_alarm: int  # messages waiting in the start queue (visible + delayed) worth a look


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, watched: Watched, alarm_email: str = "") -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Alarms", display_name="Face-swap pipeline alarms", enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(alarm_email))
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []
        self._executions(watched.job, watched.poller)
        self._webhook_api(watched.api)
        for fn in watched.functions:
            self._alarm(f"{fn.node.id}Errors", fn.metric_errors(period=PERIOD), f"Lambda {fn.node.id} raised errors")
        if watched.face_precheck:
            # The start function fails open when the detector cannot answer: without this, a broken detector (no
            # permission, wrong name) would silently turn the pre-check off.
            self._alarm("FacePrecheckUnavailable", _start_metric("FacePrecheck_unavailable", "Sum", PERIOD),
                        "The face pre-check could not answer: jobs went to the vendor unchecked (start_job logs)")
        self._waiting(watched)
        self._alarm("StartJobDeadLetters",
                    watched.start_dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD),
                    "An upload event could not be processed after retries (see the dead-letter queue)")
        self._alarm("ExecutionFailedDeadLetters",
                    watched.execution_failed_dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD),
                    "A failed execution could not be recorded as error.json (see the dead-letter queue)")
        self._job_events(watched.event_publisher, watched.job_events_dead_letters)
        self._allow_alarms_to_publish()  # last: every alarm exists

    def _job_events(self, publisher: lambda_.IFunction, dead_letters: sqs.IQueue) -> None:
        # Events wait in the stream while a batch is retried: an old iterator means they are late (EventBridge
        # refusing them, a bug), long before they would expire (24 h) into the dead-letter queue.
        self._alarm("JobEventsIteratorAge",
                    publisher.metric("IteratorAge", statistic="Maximum", period=PERIOD),
                    "Job events are more than 5 minutes late (PublishJobEvents logs); they expire after 24 h",
                    JOB_EVENTS_MAX_DELAY_MS)
        self._alarm("JobEventsDeadLetters", dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD),
                    "Job events expired unpublished: the messages name the stream records (docs/events.md)")

    def _allow_alarms_to_publish(self) -> None:
        """The topic's policy (enforce_ssl: it replaces SNS's default policy) must let CloudWatch publish, or no alarm
        action works. Only this account's alarms, and only the ones made here (aws:SourceArn, against a confused
        deputy), may publish; the TLS-only deny stays beside this statement."""
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowThisStacksAlarmsToPublish", principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"], resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        "ArnEquals": {"aws:SourceArn": [alarm.alarm_arn for alarm in self.alarms]}}))

    def _executions(self, job: sfn.IStateMachine, poller: sfn.IStateMachine) -> None:
        self._alarm("ExecutionsFailed", job.metric_failed(period=PERIOD),
                    "A face-swap execution failed (see results/<job>/error.json)")
        self._alarm("ExecutionsTimedOut", job.metric_timed_out(period=PERIOD),
                    "A face-swap execution hit the run timeout")
        # A poller that fails or times out could not hand its job the token: the job waits for a webhook, or
        # until its wait timeout (faceswap:webhook_wait_minutes). Its logs are in the poller's log group.
        self._alarm("PollerExecutionsFailed", poller.metric_failed(period=PERIOD),
                    "A poller execution failed: its job may wait until the wait timeout (poller log group)")
        self._alarm("PollerExecutionsTimedOut", poller.metric_timed_out(period=PERIOD),
                    "A poller execution hit the 5-minute Express limit without handing over")

    def _waiting(self, w: Watched) -> None:
        """Waiting is normal in a burst; these say when it is not: a job waiting half its limit, the vendor pushing
        back (the breaker opened), a backlog far beyond what the vendor's cap drains."""
        self._alarm("QueuedJobsWaitLong", _start_metric("QueuedJobAgeSeconds", "Maximum", Duration.minutes(15)),
                    "A job has waited in the start queue half of faceswap:max_queue_wait_minutes (status.json)",
                    w.max_queue_wait_seconds / 2)
        self._alarm("VendorBreakerOpen", _start_metric("BreakerOpen", "Sum", PERIOD),
                    "The vendor kept answering 429/timeouts: every start waits for the breaker (start_job logs)")
        backlog = cw.MathExpression(expression="visible + delayed", label="Jobs waiting in the start queue",
                                    period=PERIOD, using_metrics={
                                        "visible": w.start_queue.metric_approximate_number_of_messages_visible(),
                                        "delayed": w.start_queue.metric("ApproximateNumberOfMessagesDelayed")})
        self._alarm("StartQueueBacklog", backlog, "More jobs wait than the vendor's cap drains in hours",
                    w.backlog_alarm)

    def _webhook_api(self, api: apigw.RestApi) -> None:
        self._alarm("Webhook4xxRate", _rate(api.metric_client_error(), api.metric_count(), "4xx"),
                    "More than 10% of webhook calls were rejected (bad signatures or a wrong secret?)", 10)
        self._alarm("Webhook5xx", api.metric_server_error(period=PERIOD), "The webhook endpoint answered 5xx")

    def _alarm(self, name: str, metric: cw.IMetric, description: str, threshold: float = 1) -> None:
        alarm = cw.Alarm(self, name, metric=metric, threshold=threshold, evaluation_periods=1,
                         comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                         treat_missing_data=cw.TreatMissingData.NOT_BREACHING, alarm_description=description)
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)


def _start_metric(name: str, statistic: str, period: Duration) -> cw.Metric:
    """One of the start function's own metrics (Powertools EMF: the dimension "service" is its handler)."""
    return cw.Metric(namespace=METRICS_NAMESPACE, metric_name=name, dimensions_map={"service": "start_job"},
                     statistic=statistic, period=period)


def _rate(errors: cw.Metric, total: cw.Metric, label: str) -> cw.MathExpression:
    return cw.MathExpression(
        expression="IF(total > 0, 100 * errors / total, 0)",
        using_metrics={"errors": errors.with_(statistic="Sum"), "total": total.with_(statistic="Sum")},
        label=f"Webhook {label} rate (%)", period=PERIOD,
    )
