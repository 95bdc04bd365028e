"""Where state lives: the media bucket, the job table (jobs, and task tokens meeting webhooks), the secrets; and the
dead-letter queues where events that could not be handled wait to be replayed."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from faceswap.layout import PARTITION_KEY, TTL_ATTRIBUTE
from infra.config import PipelineConfig


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: PipelineConfig) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # User data: retained on stack deletion (see README, Cleanup).
        self.bucket = s3.Bucket(
            self, "Media",
            encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=self.access_logs, server_access_logs_prefix="media/",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-results", prefix=config.results_prefix,
                                 expiration=Duration.days(config.results_retention_days)),
                *[s3.LifecycleRule(id=f"expire-{p.rstrip('/')}", prefix=p,
                                   expiration=Duration.days(config.inputs_retention_days))
                  for p in (config.videos_prefix, config.faces_prefix, config.jobs_prefix)],
                s3.LifecycleRule(id="abort-multipart", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.jobs = self._table("Jobs", PARTITION_KEY, TTL_ATTRIBUTE)
        # Placeholders: the README shows how to put the real values after deploy; never in code or env.
        self.api_key = sm.Secret(
            self, "VendorApiKey", description="YouCam API key (Bearer token). Set it after deploy.",
            generate_secret_string=sm.SecretStringGenerator(exclude_punctuation=True),
        )
        self.webhook_secrets = sm.Secret(
            self, "WebhookSecrets",
            description="YouCam webhook signing secret(s), whsec_..., space-separated during rotation.",
            generate_secret_string=sm.SecretStringGenerator(exclude_punctuation=True),
        )

    def _table(self, construct_id: str, partition_key: str, ttl_attribute: str) -> ddb.Table:
        return ddb.Table(
            self, construct_id,
            partition_key=ddb.Attribute(name=partition_key, type=ddb.AttributeType.STRING),
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=ttl_attribute,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=ddb.TableEncryption.AWS_MANAGED,
            # The job events' outbox (infra/job_events.py): every change, with the item before and after it.
            stream=ddb.StreamViewType.NEW_AND_OLD_IMAGES,
            removal_policy=RemovalPolicy.DESTROY,
        )


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """Events kept 14 days for a replay (SSE, TLS only)."""
    return sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=Duration.days(14))
