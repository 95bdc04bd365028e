"""AWS clients and secrets, created once per container (module scope survives warm invocations)."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config

from faceswap.config import PipelineSettings, VendorSettings
from faceswap.layout import Env

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

    from faceswap.youcam.client import YouCamClient

# A rotated secret is picked up within five minutes. Powertools' own knob (Env.POWERTOOLS_PARAMETERS_MAX_AGE)
# overrides it; unset, Powertools alone would keep secrets 5 s.
SECRET_CACHE_SECONDS = 300


@cache
def settings() -> PipelineSettings:
    return PipelineSettings.from_env()


@cache
def s3() -> S3Client:
    return boto3.client("s3")


@cache
def sfn() -> SFNClient:
    return boto3.client("stepfunctions")


@cache
def sqs() -> SQSClient:
    return boto3.client("sqs")


@cache
def lambda_client() -> LambdaClient:
    """For synchronous calls of the face detector: waits past the detector's own timeout plus a cold start's init
    (up to 10 s, not counted in the timeout) and the network, so a slow answer is not cut off. One retry (throttling,
    a failed connection, or a read timeout after all: the detector has no side effects, a second run only costs)."""
    read_timeout = settings().face_detector_timeout_seconds + 30
    return boto3.client("lambda", config=Config(read_timeout=read_timeout,
                                                retries={"mode": "standard", "total_max_attempts": 2}))


@cache
def events() -> EventBridgeClient:
    """For the job events' publisher: a throttled or failed PutEvents call is retried by the SDK (standard mode);
    entries refused one by one are retried by the publisher (faceswap.event_bus)."""
    return boto3.client("events", config=Config(retries={"mode": "standard", "total_max_attempts": 4}))


@cache
def jobs_table() -> Table:
    return boto3.resource("dynamodb").Table(settings().jobs_table)


def vendor_client() -> YouCamClient:
    """A client with the current API key (cached by Powertools; rebuilt only when the key changes)."""
    return _client_for(_secret(settings().api_key_secret_arn))


@cache
def _client_for(api_key: str) -> YouCamClient:
    from faceswap.youcam.client import YouCamClient

    return YouCamClient(api_key, VendorSettings.from_env())


def webhook_secrets() -> list[str]:
    """One or more `whsec_...` secrets, space- or newline-separated: several during a rotation."""
    return _secret(settings().webhook_secret_arn).split()


def secret_max_age() -> int:
    """Seconds a secret stays cached in a warm container (0: read it on every use)."""
    raw = os.environ.get(Env.POWERTOOLS_PARAMETERS_MAX_AGE, "").strip()
    return int(raw) if raw else SECRET_CACHE_SECONDS


def _secret(arn: str) -> str:
    value: Any = parameters.get_secret(arn, max_age=secret_max_age())
    return value.decode() if isinstance(value, bytes) else str(value)
