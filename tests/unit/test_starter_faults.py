"""Faults inside the start function that no vendor or user caused: the claim must never be left orphaned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from moto import mock_aws

from faceswap.config import PipelineSettings
from faceswap.jobs import JobSpec
from faceswap.media import MediaLimits
from faceswap.records import JobStore
from faceswap.results import ResultWriter
from faceswap.starter import JobStarter
from local.media import make_face_image, make_video

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET, TABLE = "media", "jobs"
PARENT_LOGGER = Logger()  # the core logs through Powertools child loggers, as under a handler


class _FlakyS3:
    """The real (moto) S3 client, except that ranged reads of `fail_key` raise a throttling error."""

    def __init__(self, real: Any, fail_key: str) -> None:
        self._real, self._fail_key = real, fail_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def get_object(self, **kwargs: Any) -> Any:
        if kwargs.get("Key") == self._fail_key:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate."}}, "GetObject")
        return self._real.get_object(**kwargs)


@pytest.fixture
def aws(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(make_video(tmp_path / "clip.mp4", seconds=1, size=(160, 96))), BUCKET, "videos/clip.mp4")
        s3.upload_file(str(make_face_image(tmp_path / "face.png")), BUCKET, "faces/face.png")
        s3.put_object(Bucket=BUCKET, Key="jobs/flaky.json",
                      Body=json.dumps({"video": "videos/clip.mp4", "face": "faces/face.png"}).encode())
        dynamodb = boto3.resource("dynamodb")
        table = dynamodb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                      BillingMode="PAY_PER_REQUEST")
        yield {"s3": s3, "table": table}


def _never_called() -> Any:
    raise AssertionError("the vendor must not be reached when validation cannot even read the files")


def test_unexpected_fault_before_spending_releases_the_claim(aws: dict[str, Any]) -> None:
    settings = PipelineSettings(bucket=BUCKET, jobs_table=TABLE, api_key_secret_arn="unused")
    store = JobStore(aws["table"])
    flaky_s3 = cast("S3Client", _FlakyS3(aws["s3"], "faces/face.png"))
    starter = JobStarter(s3=flaky_s3, sfn=boto3.client("stepfunctions"), store=store,
                         results=ResultWriter(aws["s3"], BUCKET, "results/"), settings=settings,
                         vendor=_never_called, limits=MediaLimits())

    with pytest.raises(ClientError, match="SlowDown"):
        starter.handle_upload(BUCKET, "jobs/flaky.json")

    # Nothing recorded as started or failed: the event's retry can claim the job again and start it.
    assert store.get("flaky") is None
    assert store.claim(JobSpec("flaky", "videos/clip.mp4", "faces/face.png")).won


def test_an_abandoned_claim_is_taken_over_by_exactly_one_attempt(aws: dict[str, Any]) -> None:
    store = JobStore(aws["table"])
    job = JobSpec("abandoned", "videos/clip.mp4", "faces/face.png")
    assert store.claim(job, "dead-attempt").won

    taken = [store.take_over("abandoned", "dead-attempt", attempt) for attempt in ("retry-a", "retry-b")]

    assert taken == [True, False]  # the second saw the claim already moved: it is a plain duplicate
    record = store.get("abandoned")
    assert record is not None and record["claimed_by"] == "retry-a" and record["state"] == "STARTING"
