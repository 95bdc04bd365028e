"""Faults inside the start function that no vendor or user caused: the claim must never be left orphaned."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from faceswap.config import PipelineSettings
from faceswap.jobs import JobSpec
from faceswap.media import MediaLimits
from faceswap.records import ClaimLost, JobStore
from faceswap.results import ResultWriter
from faceswap.starter import JobStarter
from tests.unit.conftest import BUCKET, FACE, TABLE, VIDEO

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


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


@pytest.fixture(autouse=True)
def flaky_manifest(aws: dict[str, Any]) -> None:
    aws["s3"].put_object(Bucket=BUCKET, Key="jobs/flaky.json", Body=json.dumps({"video": VIDEO, "face": FACE}).encode())


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
    seen = store.get("abandoned")
    assert seen is not None

    # Both read the claim before either moved it, and one of them is the dead attempt's own retry (same id).
    taken = [store.take_over("abandoned", seen, attempt) for attempt in ("dead-attempt", "other-event")]

    assert taken[0] is not None and taken[1] is None  # the token moved: the second is a plain duplicate
    record = store.get("abandoned")
    assert record is not None and record["claim_token"] == taken[0] and record["state"] == "STARTING"


def test_an_attempt_whose_claim_was_taken_over_can_no_longer_spend_record_or_release(aws: dict[str, Any]) -> None:
    store = JobStore(aws["table"])
    first = store.claim(JobSpec("fenced", "videos/clip.mp4", "faces/face.png"), "first")
    seen = store.get("fenced")
    assert seen is not None
    second = store.take_over("fenced", seen, "second")
    assert second is not None

    with pytest.raises(ClaimLost):
        store.mark_creating("fenced", first.token)  # the old holder may not reach the create-task call
    store.release("fenced", first.token)  # nor delete the new holder's claim (silently refused)
    store.mark_creating("fenced", second)
    with pytest.raises(ClaimLost):
        store.mark_creating("fenced", second)  # once per job: a second create-task is never prepared
    with pytest.raises(ClaimLost):
        store.mark_submitted("fenced", first.token, "task-1", units=1, duration_seconds=1.0, interval_seconds=5)
    store.mark_submitted("fenced", second, "task-1", units=1, duration_seconds=1.0, interval_seconds=5)
    record = store.get("fenced")
    assert record is not None and record["state"] == "SUBMITTED" and record["task_id"] == "task-1"


def test_a_claim_written_before_fencing_tokens_can_still_be_taken_over(aws: dict[str, Any]) -> None:
    aws["table"].put_item(Item={"pk": "JOB#legacy", "job_id": "legacy", "state": "STARTING", "created_epoch": 0})
    store = JobStore(aws["table"])
    seen = store.get("legacy")
    assert seen is not None
    assert store.take_over("legacy", seen, "retry") is not None
