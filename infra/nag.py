"""cdk-nag findings reviewed and accepted, each with its reason (the test suite fails on any other)."""

from __future__ import annotations

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions


def suppress_reviewed_findings(stack: Stack) -> None:
    NagSuppressions.add_stack_suppressions(stack, [
        NagPackSuppression(id="AwsSolutions-IAM4", reason=(
            "AWSLambdaBasicExecutionRole (logs only) and the API Gateway CloudWatch role are AWS-managed "
            "policies scoped to logging.")),
        NagPackSuppression(id="AwsSolutions-IAM5", reason=(
            "Wildcards are object-key prefixes (videos/*, faces/*, jobs/*, results/*), X-Ray (no resource-level "
            "permissions) and the Step Functions log delivery actions, which AWS requires on '*'.")),
        NagPackSuppression(id="AwsSolutions-L1", reason=(
            "Python 3.11 on purpose: the local stack runs these exact bundles with the project's CPython 3.11; "
            "supported by Lambda until 2027.")),
        NagPackSuppression(id="AwsSolutions-SMG4", reason=(
            "The API key and webhook secret are issued by the vendor's console; they cannot be rotated by a "
            "Lambda. Rotation is manual and supported (several webhook secrets at once, see README).")),
        NagPackSuppression(id="AwsSolutions-APIG4", reason=(
            "The webhook is called by the vendor, which cannot sign with SigV4 or Cognito; every request is "
            "authenticated by its Standard Webhooks HMAC signature in the Lambda.")),
        NagPackSuppression(id="AwsSolutions-COG4", reason="Same as APIG4: HMAC-signed webhook, no user pool."),
        NagPackSuppression(id="AwsSolutions-APIG3", reason=(
            "WAF is optional (cost): stage throttling and signature checks bound abuse; attach a WebACL if "
            "your policy requires one.")),
        NagPackSuppression(id="AwsSolutions-SQS3", reason="These queues are themselves dead-letter queues."),
        NagPackSuppression(id="AwsSolutions-SNS2", reason=(
            "Alarm topic: CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key; messages "
            "carry alarm names only.")),
        NagPackSuppression(id="AwsSolutions-S1", reason=(
            "Only on the access-log bucket itself, which cannot log to itself.")),
    ])
