"""The stack outputs the `faceswap` CLI, `faceswap doctor` and the acceptance tests find a pipeline by.

A stack of your own that embeds the construct adds them with a name prefix (`examples/byo_app`): the CLI matches
outputs by the end of their names.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.pipeline import FaceSwapPipeline


def add_outputs(scope: Construct, pipeline: FaceSwapPipeline, *, vendor_base_url: str | None = None,
                prefix: str = "") -> None:
    p, c = pipeline, pipeline.config
    values = {
        "BucketName": p.storage.bucket.bucket_name,
        "StateMachineArn": p.state_machine.state_machine_arn,
        "PollerStateMachineArn": p.poller.state_machine_arn,
        "WebhookUrl": p.api.url_for_path("/webhook"),
        "JobsTableName": p.storage.jobs.table_name,
        "ApiKeySecretArn": p.storage.api_key.secret_arn,
        "WebhookSecretArn": p.storage.webhook_secrets.secret_arn,
        # What doctor checks: the alarm topic's e-mail subscription, the key against the vendor's origin.
        "AlarmTopicArn": p.monitoring.topic.topic_arn,
        "VendorApiUrl": vendor_base_url or c.vendor_base_url,  # (VendorBaseUrl: the parameter)
        # The bucket layout, so that the CLI finds jobs and results under prefixes of your choosing.
        "VideosPrefix": c.videos_prefix,
        "FacesPrefix": c.faces_prefix,
        "JobsPrefix": c.jobs_prefix,
        "ResultsPrefix": c.results_prefix,
    }
    for name, value in values.items():
        cdk.CfnOutput(scope, prefix + name, value=value)
