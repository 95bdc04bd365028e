"""Job events on the local stack, as a consumer sees them: a rule on the default bus (created here, as a user would)
forwards the pipeline's events to an SQS queue, which receives exactly one event per state a job passed through, in
order and numbered 1, 2... — for a job that succeeds, a vendor failure, a failure only the execution-failed rule
records (a stopped execution), a job refused after its claim, an upload refused before any, and a duplicate upload
(nothing new)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from local.eventually import eventually
from local.pipeline import LocalPipeline
from tests.e2e.guarantees import put_manifest, start_events_for, upload_inputs, wait_for_job
from tests.media import Media

PREFIX = "ev-"  # the job names of this module: the rule forwards their events only


class Consumer:
    """The queue behind the test's rule, and every event it received so far, by job, in arrival order."""

    def __init__(self, pipeline: LocalPipeline, url: str) -> None:
        self._pipeline, self._url = pipeline, url
        self._events: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def events(self, job_id: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The job's events once it has `count` and the stream and its publisher are idle (so no more are on their
        way); fails on fewer, and returns more if more came."""
        eventually(lambda: len(self._receive(job_id)) >= count or None, timeout, what=f"{count} events of {job_id}")
        sources = self._pipeline.stack.event_sources
        assert sources.wait_idle(30), sources.describe()
        return self._receive(job_id)

    def _receive(self, job_id: str) -> list[dict[str, Any]]:
        sqs = self._pipeline.client("sqs")
        while batch := sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                event = json.loads(message["Body"])
                self._events[event["detail"]["jobId"]].append(event)
                sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return list(self._events[job_id])


@pytest.fixture(scope="module")
def consumer(local_pipeline: LocalPipeline) -> Iterator[Consumer]:
    """What docs/events.md shows a user: a rule on the pipeline's source and detail-type, an SQS target."""
    sqs, events = local_pipeline.client("sqs"), local_pipeline.client("events")
    name = f"faceswap-job-events-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps({
        "source": ["faceswap"], "detail-type": ["FaceSwap Job State Change"],
        "detail": {"jobId": [{"prefix": PREFIX}]}}))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    yield Consumer(local_pipeline, url)
    events.remove_targets(Rule=name, Ids=["queue"])
    events.delete_rule(Name=name)
    sqs.delete_queue(QueueUrl=url)


def states(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(e["detail"]["state"], e["detail"]["sequence"]) for e in events]


def test_a_job_that_succeeds_then_is_uploaded_again(pipeline: LocalPipeline, consumer: Consumer,
                                                    media: Media) -> None:
    job = pipeline.submit(f"{PREFIX}ok", media.clip, media.face)
    view = wait_for_job(pipeline, job)
    started, succeeded = events = consumer.events(job, 2)
    assert states(events) == [("STARTED", 1), ("SUCCEEDED", 2)]
    assert {e["source"] for e in events} == {"faceswap"} and {e["detail-type"] for e in events} == {
        "FaceSwap Job State Change"}
    assert view.status is not None and started["detail"]["vendorTaskId"] == view.status["task_id"]
    assert started["detail"]["inputs"] == {"upload": f"jobs/{job}.json", "video": f"videos/{media.clip.name}",
                                           "face": f"faces/{media.face.name}"}
    detail = succeeded["detail"]
    assert detail["results"] == {"output": view.output_key, "status": f"results/{job}/status.json"}
    assert detail["units"] == 1 and detail["bucket"] == pipeline.bucket and "error" not in detail
    assert set(detail["timings"]) == {"createdAt", "submittedAt", "finishedAt"}

    # The same manifest again: the job exists, nothing changes, nothing is published.
    key = f"jobs/{job}.json"
    body = pipeline.client("s3").get_object(Bucket=pipeline.bucket, Key=key)["Body"].read()
    pipeline.client("s3").put_object(Bucket=pipeline.bucket, Key=key, Body=body)
    eventually(lambda: len(start_events_for(pipeline, key)) == 2 or None, 30, what="the second upload's start")
    assert pipeline.stack.runtime.wait_for_async(timeout=30)
    assert consumer.events(job, 2) == events


def test_a_vendor_failure(pipeline: LocalPipeline, consumer: Consumer, media: Media) -> None:
    pipeline.emulator.set_faults(task_error_code="error_no_face")
    job = pipeline.submit(f"{PREFIX}vendor-error", media.clip, media.face)
    view = wait_for_job(pipeline, job)
    events = consumer.events(job, 2)
    assert states(events) == [("STARTED", 1), ("FAILED", 2)]
    assert view.error is not None and events[1]["detail"]["error"] == {
        "code": view.error["code"], "message": view.error["message"], "whatToFix": view.error["what_to_fix"],
        "errorClass": "NoFaceDetected", "vendorCode": "error_no_face"}
    assert events[1]["detail"]["results"] == {"status": f"results/{job}/status.json",
                                              "error": f"results/{job}/error.json"}


def test_a_failure_only_the_execution_failed_rule_records(pipeline: LocalPipeline, consumer: Consumer,
                                                          media: Media) -> None:
    pipeline.emulator.set_faults(never_finish=True, webhook_drop=True)
    job = pipeline.submit(f"{PREFIX}stopped", media.clip, media.face)
    eventually(lambda: pipeline.execution_status(job) == "RUNNING" or None, 60, what="the job to run")
    pipeline.client("stepfunctions").stop_execution(executionArn=pipeline.execution_arn(job))
    events = consumer.events(job, 2)
    assert states(events) == [("STARTED", 1), ("FAILED", 2)]
    assert events[1]["detail"]["error"]["code"] == "aborted" and events[1]["detail"]["units"] == 1


def test_a_job_refused_after_its_claim_and_an_upload_refused_before_any(pipeline: LocalPipeline, consumer: Consumer,
                                                                        media: Media) -> None:
    too_fast = media.video(seconds=1, fps=60, size=(160, 90))
    refused = pipeline.submit(f"{PREFIX}sixty-fps", too_fast, media.face)
    assert wait_for_job(pipeline, refused).execution_status == "NONE"
    [failed] = consumer.events(refused, 1)
    assert states([failed]) == [("FAILED", 1)] and "rejected" not in failed["detail"]
    assert failed["detail"]["error"]["code"] == "video_fps_too_high" and "vendorTaskId" not in failed["detail"]

    # Not even a manifest: no JOB record, the rejection's own outbox publishes it; the same file again does not.
    bad = f"{PREFIX}not-json"
    put_manifest(pipeline, bad, b"{ this is not json")
    error = eventually(lambda: pipeline.read_json(f"results/{bad}/error.json"), 30, what="error.json")
    [rejected] = consumer.events(bad, 1)
    assert states([rejected]) == [("FAILED", 1)] and rejected["detail"]["rejected"] is True
    assert rejected["detail"]["error"]["code"] == error["code"]
    assert rejected["detail"]["inputs"] == {"upload": f"jobs/{bad}.json"}
    put_manifest(pipeline, bad, b"{ this is not json")
    eventually(lambda: len(start_events_for(pipeline, f"jobs/{bad}.json")) == 2 or None, 30, what="the 2nd start")
    assert pipeline.stack.runtime.wait_for_async(timeout=30)
    assert consumer.events(bad, 1) == [rejected]


def test_a_queue_of_events_keeps_each_jobs_order(pipeline: LocalPipeline, consumer: Consumer,
                                                 media: Media) -> None:
    video_key, face_key = upload_inputs(pipeline, media.clip, media.face)
    jobs = [f"{PREFIX}burst-{n}" for n in range(4)]
    for job in jobs:
        put_manifest(pipeline, job, {"video": video_key, "face": face_key, "face_check": False})
    for job in jobs:
        wait_for_job(pipeline, job)
    # Four at once against the create rate: a job may wait first (QUEUED), and its events still come in order.
    for job in jobs:
        assert states(consumer.events(job, 2)) in (
            [("STARTED", 1), ("SUCCEEDED", 2)], [("QUEUED", 1), ("STARTED", 2), ("SUCCEEDED", 3)]), job
