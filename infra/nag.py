"""cdk-nag findings reviewed and accepted: each suppression sits on the resource it concerns, IAM ones name the exact
policy, action or resource wildcard they accept (`applies_to`), and each gives its reason. Nothing is suppressed
stack-wide; the test suite fails on any other finding."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct

from infra.config import PipelineConfig
from infra.ingest import Ingest
from infra.job_events import JobEvents
from infra.job_workflow import JobWorkflow
from infra.storage import Storage
from infra.webhook_ingress import WebhookIngress

LAMBDA_BASIC_ROLE = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
API_GATEWAY_LOGS_ROLE = ("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                         "AmazonAPIGatewayPushToCloudWatchLogs")
# CDK's bucket grants: s3:GetObject*/GetBucket*/List* (read), s3:Abort* (put: abort its own multipart uploads).
S3_READ_ACTIONS = ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*"]
S3_PUT_ACTIONS = ["Action::s3:Abort*"]


def suppress_reviewed_findings(stack: Stack, *, config: PipelineConfig, storage: Storage, ingest: Ingest,
                               workflow: JobWorkflow, webhooks: WebhookIngress, job_events: JobEvents) -> None:
    """The pipeline's parts, as FaceSwapPipeline composes them (storage, ingest, workflow, webhooks, events)."""
    _functions(config, ingest, workflow, webhooks)
    _function(job_events.publisher, [], [])
    _state_machines(workflow)
    _webhook_api(webhooks)
    _storage(storage, ingest, workflow, job_events)
    _cdk_bucket_notifications_handler(stack)


def _functions(c: PipelineConfig, ingest: Ingest, workflow: JobWorkflow, webhooks: WebhookIngress) -> None:
    inputs, results = [c.videos_prefix, c.faces_prefix, c.jobs_prefix], [c.results_prefix]
    _function(ingest.start_job, S3_READ_ACTIONS + S3_PUT_ACTIONS, inputs + results)
    for fn in (workflow.functions.finalize, workflow.functions.record_failure, workflow.execution_failed):
        _function(fn, [], results)
    for fn in (workflow.functions.check_status, workflow.functions.store_token, webhooks.webhook):
        _function(fn, [], [])
    if ingest.face_detector is not None:
        _function(ingest.face_detector, [], [c.videos_prefix, c.faces_prefix])


def _function(fn: lambda_.IFunction, s3_actions: list[str], s3_prefixes: list[str]) -> None:
    NagSuppressions.add_resource_suppressions(fn, [NagPackSuppression(id="AwsSolutions-L1", reason=(
        "python3.13 (Amazon Linux 2023) on purpose: the newest runtime whose CPython installs on the dev and CI "
        "machines, so the local stack runs the same code on the same version; supported by Lambda until 2029."))])
    applies_to: list[str | RegexAppliesTo] = ["Resource::*", *s3_actions]
    if s3_prefixes:
        applies_to.append(_object_prefixes(s3_prefixes))
    if fn.role is None:
        raise ValueError(f"{fn.node.path} has no execution role to review")
    NagSuppressions.add_resource_suppressions(fn.role, [
        NagPackSuppression(id="AwsSolutions-IAM4", applies_to=[LAMBDA_BASIC_ROLE], reason=(
            "AWSLambdaBasicExecutionRole only allows writing the function's own CloudWatch logs.")),
        NagPackSuppression(id="AwsSolutions-IAM5", applies_to=applies_to, reason=(
            "'*' is X-Ray's PutTraceSegments/PutTelemetryRecords, which have no resource-level permissions; the S3 "
            "wildcards are CDK's grant action groups on object-key prefixes of the media bucket only "
            f"({', '.join(s3_prefixes) or 'none for this function'}).")),
    ], apply_to_children=True)


def _object_prefixes(prefixes: list[str]) -> RegexAppliesTo:
    names = "|".join(prefix.rstrip("/") for prefix in prefixes)
    return RegexAppliesTo(regex=rf"/^Resource::<[A-Za-z0-9]+\.Arn>\/({names})\/\*$/g")


def _state_machines(workflow: JobWorkflow) -> None:
    for machine in (workflow.state_machine, workflow.poller):
        NagSuppressions.add_resource_suppressions(machine.role, [
            NagPackSuppression(id="AwsSolutions-IAM5", applies_to=[
                "Resource::*", RegexAppliesTo(regex=r"/^Resource::<Pipeline[A-Za-z0-9]+\.Arn>:\*$/g")], reason=(
                "'*': Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups...) and X-Ray, which AWS "
                "requires on '*'; '<function>:*' lets the state machine invoke versions of its own functions.")),
        ], apply_to_children=True)


def _webhook_api(webhooks: WebhookIngress) -> None:
    api = webhooks.api
    cloudwatch_role = api.node.try_find_child("CloudWatchRole")
    if cloudwatch_role is not None:
        NagSuppressions.add_resource_suppressions(cloudwatch_role, [
            NagPackSuppression(id="AwsSolutions-IAM4", applies_to=[API_GATEWAY_LOGS_ROLE], reason=(
                "The account-level role API Gateway uses to write its access and execution logs."))])
    NagSuppressions.add_resource_suppressions(api.methods, [
        NagPackSuppression(id="AwsSolutions-APIG4", reason=(
            "The webhook is called by the vendor, which cannot sign with SigV4 or use Cognito; every request is "
            "authenticated by its Standard Webhooks HMAC signature in the Lambda.")),
        NagPackSuppression(id="AwsSolutions-COG4", reason="Same as APIG4: HMAC-signed webhook, no user pool."),
    ])
    NagSuppressions.add_resource_suppressions(api.deployment_stage, [
        NagPackSuppression(id="AwsSolutions-APIG3", reason=(
            "WAF is optional (cost): stage throttling, the 10 MB/64 KiB body limits and the signature check bound "
            "abuse; attach a WebACL if your policy requires one."))])


def _storage(s: Storage, ingest: Ingest, workflow: JobWorkflow, job_events: JobEvents) -> None:
    NagSuppressions.add_resource_suppressions([ingest.dead_letters, workflow.dead_letters, job_events.dead_letters], [
        NagPackSuppression(id="AwsSolutions-SQS3", reason="These queues are themselves dead-letter queues.")])
    NagSuppressions.add_resource_suppressions([s.api_key, s.webhook_secrets], [
        NagPackSuppression(id="AwsSolutions-SMG4", reason=(
            "The API key and webhook secret are issued by the vendor's console; a Lambda cannot rotate them. "
            "Rotation is manual and supported (several webhook secrets at once, see README)."))])
    NagSuppressions.add_resource_suppressions(s.access_logs, [
        NagPackSuppression(id="AwsSolutions-S1", reason=(
            "This is the access-log bucket itself: it cannot log to itself."))])


def _cdk_bucket_notifications_handler(stack: Stack) -> None:
    """CDK's singleton that configures the bucket's S3 notifications at deploy time (one per stack)."""
    handlers: list[IConstruct] = [child for child in stack.node.children
                                  if child.node.id.startswith("BucketNotificationsHandler")]
    for handler in handlers:
        NagSuppressions.add_resource_suppressions(handler, [
            NagPackSuppression(id="AwsSolutions-IAM4", applies_to=[LAMBDA_BASIC_ROLE], reason=(
                "CDK's bucket-notification custom resource: AWSLambdaBasicExecutionRole only writes its logs."))],
            apply_to_children=True)
