"""Webhook ingress: the vendor's signed webhooks arrive at a REST API (POST /webhook: throttled, shape-checked at
the edge) and the Webhook function, which verifies the signature and short-circuits the job's wait."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from faceswap.layout import TASK_KEY_PREFIX, Env
from infra.config import PipelineConfig, log_retention
from infra.functions import FunctionFactory, FunctionSpec, grant_task_success
from infra.grants import grant_items, grant_secret_value

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")  # Standard Webhooks


class WebhookIngress(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, factory: FunctionFactory,
                 jobs: ddb.ITable, webhook_secrets: sm.ISecret, job_arn: str) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.webhook = factory.create(self, "Webhook", FunctionSpec(
            "webhook", "Verifies YouCam webhooks and short-circuits the wait", Duration.seconds(10), 256,
            {Env.WEBHOOK_SECRET_ARN: webhook_secrets.secret_arn}))
        # Internet-facing: one secret's value, one item action on TASK# items (where the token meets the webhook,
        # and deliveries are de-duplicated), and SendTaskSuccess to the job.
        grant_secret_value(self.webhook, webhook_secrets)
        grant_items(self.webhook, jobs, ["UpdateItem"], [TASK_KEY_PREFIX])
        grant_task_success(self.webhook, job_arn)
        self.api = self._api(self.webhook)

    def _api(self, webhook: lambda_.IFunction) -> apigw.RestApi:
        c = self._config
        access_logs = logs.LogGroup(self, "WebhookApiAccessLogs", retention=log_retention(c.log_retention_days))
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
        _add_webhook_route(api, webhook)
        return api


def _add_webhook_route(api: apigw.RestApi, webhook: lambda_.IFunction) -> None:
    """POST /webhook. Cheap rejection at the edge; the Lambda checks all of it again (signature first)."""
    validator = api.add_request_validator("WebhookShape", validate_request_parameters=True,
                                          validate_request_body=True)
    model = api.add_model("WebhookEvent", content_type="application/json", schema=apigw.JsonSchema(
        type=apigw.JsonSchemaType.OBJECT, required=["data"],
        properties={"data": apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT,
                                             required=["task_id", "task_status"])}))
    api.root.add_resource("webhook").add_method(
        "POST", apigw.LambdaIntegration(webhook), request_validator=validator,
        request_models={"application/json": model},
        request_parameters={f"method.request.header.{h}": True for h in SIGNATURE_HEADERS},
    )
