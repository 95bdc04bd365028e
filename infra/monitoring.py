"""Alarms on what would otherwise fail quietly: failed executions, webhook errors, Lambda errors, dead letters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from faceswap.layout import METRICS_NAMESPACE

if TYPE_CHECKING:
    from infra.pipeline import FaceSwapPipeline


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, pipeline: FaceSwapPipeline) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Alarms", display_name="Face-swap pipeline alarms", enforce_ssl=True)
        if pipeline.config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(pipeline.config.alarm_email))
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []
        self._alarm("ExecutionsFailed", pipeline.state_machine.metric_failed(period=Duration.minutes(5)),
                    "A face-swap execution failed (see results/<job>/error.json)")
        self._alarm("ExecutionsTimedOut", pipeline.state_machine.metric_timed_out(period=Duration.minutes(5)),
                    "A face-swap execution hit the run timeout")
        # A poller that fails or times out could not hand its job the token: the job waits for a webhook, or
        # until its wait timeout (faceswap:webhook_wait_minutes). Its logs are in the poller's log group.
        self._alarm("PollerExecutionsFailed", pipeline.poller.metric_failed(period=Duration.minutes(5)),
                    "A poller execution failed: its job may wait until the wait timeout (poller log group)")
        self._alarm("PollerExecutionsTimedOut", pipeline.poller.metric_timed_out(period=Duration.minutes(5)),
                    "A poller execution hit the 5-minute Express limit without handing over")
        api = pipeline.api
        self._alarm("Webhook4xxRate", _rate(api.metric_client_error(), api.metric_count(), "4xx"),
                    "More than 10% of webhook calls were rejected (bad signatures or a wrong secret?)", 10)
        self._alarm("Webhook5xx", api.metric_server_error(period=Duration.minutes(5)),
                    "The webhook endpoint answered 5xx")
        functions = [pipeline.start_job, pipeline.webhook, pipeline.failure_recorder,
                     *vars(pipeline.workflow_functions).values()]
        if pipeline.face_detector is not None:  # its errors only cost a pre-check (fail open), but say so
            functions.append(pipeline.face_detector)
        for fn in functions:
            self._alarm(f"{fn.node.id}Errors", fn.metric_errors(period=Duration.minutes(5)),
                        f"Lambda {fn.node.id} raised errors")
        if pipeline.face_detector is not None:
            # The start function fails open when the detector cannot answer: without this, a broken detector (no
            # permission, wrong name) would silently turn the pre-check off.
            self._alarm("FacePrecheckUnavailable",
                        cw.Metric(namespace=METRICS_NAMESPACE, metric_name="FacePrecheck_unavailable",
                                  dimensions_map={"service": "start_job"}, statistic="Sum",
                                  period=Duration.minutes(5)),
                        "The face pre-check could not answer: jobs went to the vendor unchecked (start_job logs)")
        self._alarm("StartJobDeadLetters",
                    pipeline.start_dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
                    "An upload event could not be processed after retries (see the dead-letter queue)")
        self._alarm("ExecutionFailedDeadLetters",
                    pipeline.failed_events_dlq.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(5)),
                    "A failed execution could not be recorded as error.json (see the dead-letter queue)")

    def _alarm(self, name: str, metric: cw.IMetric, description: str, threshold: float = 1) -> None:
        alarm = cw.Alarm(self, name, metric=metric, threshold=threshold, evaluation_periods=1,
                         comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                         treat_missing_data=cw.TreatMissingData.NOT_BREACHING, alarm_description=description)
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)


def _rate(errors: cw.Metric, total: cw.Metric, label: str) -> cw.MathExpression:
    return cw.MathExpression(
        expression="IF(total > 0, 100 * errors / total, 0)",
        using_metrics={"errors": errors.with_(statistic="Sum"), "total": total.with_(statistic="Sum")},
        label=f"Webhook {label} rate (%)", period=Duration.minutes(5),
    )
