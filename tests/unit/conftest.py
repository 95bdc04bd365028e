"""moto in process for the unit tests (`in_process_aws`), and for the start function's: the media bucket with a clip
and a face, the jobs table (`aws`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from moto import mock_aws

from faceswap.claims import Claims
from faceswap.jobs import JobSpec
from tests.media import Media

BUCKET, TABLE = "media", "jobs"
VIDEO, FACE = "videos/clip.mp4", "faces/face.png"
PARENT_LOGGER = Logger()  # the core logs through Powertools child loggers, as under a handler


@pytest.fixture
def in_process_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in this process, with test credentials and no endpoint of a local stack: every unit test's AWS."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def aws(media: Media, in_process_aws: None) -> Iterator[dict[str, Any]]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(media.video(seconds=1, size=(160, 96))), BUCKET, VIDEO)
    s3.upload_file(str(media.face), BUCKET, FACE)
    table = boto3.resource("dynamodb").create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    yield {"s3": s3, "table": table}


def submit_job(table: Any, job_id: str, task_id: str) -> None:
    """A job record as the start function leaves it once its vendor task exists (SUBMITTED, TASK# item)."""
    claims = Claims(table, time.time)
    claim = claims.claim(JobSpec(job_id, "videos/clip.mp4", "faces/face.png"), "attempt")
    claims.mark_submitted(job_id, claim.token, task_id, units=1, duration_seconds=1.0, interval_seconds=5)
