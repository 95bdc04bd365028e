"""The sample events in events/ drive each deployed function on the local stack, and do what they say."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from faceswap.youcam.webhooks import sign_webhook
from local.eventually import eventually
from local.pipeline import LocalPipeline
from tests.e2e.guarantees import handled_messages, sqs_event
from tests.media import Media

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _event(name: str, **replace: str) -> dict[str, Any]:
    text = (EVENTS / name).read_text()
    for placeholder, value in replace.items():
        text = text.replace(placeholder, value)
    return dict(json.loads(text))


def _invoke(pipeline: LocalPipeline, function_prefix: str, event: dict[str, Any]) -> dict[str, Any]:
    answer = pipeline.client("lambda").invoke(FunctionName=pipeline.stack.function_name(function_prefix),
                                              Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return dict(payload)


def test_s3_manifest_event_starts_the_named_job(pipeline: LocalPipeline, media: Media) -> None:
    s3 = pipeline.client("s3")
    s3.upload_file(str(media.clip), pipeline.bucket, "videos/clip.mp4")
    s3.upload_file(str(media.face), pipeline.bucket, "faces/face.png")
    manifest = {"video": "videos/clip.mp4", "face": "faces/face.png"}
    s3.put_object(Bucket=pipeline.bucket, Key="jobs/demo.json", Body=json.dumps(manifest).encode())
    view = pipeline.wait_for_job("demo", timeout=60)  # the upload itself started it...
    # ...and the sample message (S3's event, key jobs%2Fdemo.json URL-encoded like S3's) is the same upload again.
    answer = _invoke(pipeline, "PipelineIngestStartJob", _event("sqs-start-manifest.json", BUCKET=pipeline.bucket))
    assert answer == {"batchItemFailures": []} and _handled(pipeline, "059f36b4-87a3-44ab-83d2-661975830a7d") == [
        "duplicate"]  # ...once
    assert view.execution_status == "SUCCEEDED"
    assert pipeline.emulator.stats()["tasks_created"] == 1


def test_video_with_face_key_event_decodes_the_key(pipeline: LocalPipeline, media: Media) -> None:
    s3 = pipeline.client("s3")
    s3.upload_file(str(media.face), pipeline.bucket, "faces/face.png")
    s3.upload_file(str(media.clip), pipeline.bucket, "videos/holiday clip.mp4",
                   ExtraArgs={"Metadata": {"face-key": "faces/face.png"}})
    view = pipeline.wait_for_job("holiday-clip", timeout=60)
    assert view.execution_status == "SUCCEEDED"
    upload = _event("s3-put-video-with-face-key.json", BUCKET=pipeline.bucket)
    answer = _invoke(pipeline, "PipelineIngestStartJob", sqs_event(upload, "sample-video"))
    assert answer == {"batchItemFailures": []}
    assert _handled(pipeline, "sample-video") == ["duplicate"]  # '+' and '%2F' decoded: the same job


def test_queued_start_message_of_a_job_not_queued_is_dropped(pipeline: LocalPipeline) -> None:
    """The sample of a job sent back to wait: a message whose job is not waiting with its queue token (here `demo`,
    which ran) changes nothing and is deleted."""
    answer = _invoke(pipeline, "PipelineIngestStartJob", _event("sqs-start-queued.json"))
    assert answer == {"batchItemFailures": []}
    assert _handled(pipeline, "5b4a8b0e-2f0e-4d4b-9a59-1f8f1b0c2a11") == ["duplicate"]


def _handled(pipeline: LocalPipeline, message_id: str) -> list[str]:
    return handled_messages(pipeline).get(message_id, [])


def test_webhook_proxy_event_is_verified(pipeline: LocalPipeline) -> None:
    secret = pipeline.emulator.config.webhook_secret
    unsigned = _event("webhook-proxy.json", TIMESTAMP=str(int(time.time())), TASK_ID="unknown-task")
    headers = sign_webhook(secret, "msg_sample", int(unsigned["headers"]["webhook-timestamp"]),
                           unsigned["body"].encode())
    signed = {**unsigned, "headers": {**unsigned["headers"], **headers}}
    ok = _invoke(pipeline, "PipelineWebhookIngressWebhook", signed)
    assert ok["statusCode"] == 200 and json.loads(ok["body"])["outcome"] == "unknown_task"
    forged = _invoke(pipeline, "PipelineWebhookIngressWebhook", unsigned)  # the sample's placeholder signature
    assert forged["statusCode"] == 401


def test_record_failure_and_execution_failed_events_write_error_json(pipeline: LocalPipeline, media: Media) -> None:
    pipeline.emulator.set_faults(never_finish=True)
    job = pipeline.submit("sample-failure", media.clip, media.face)
    eventually(lambda: pipeline.execution_status(job) == "RUNNING", 30, what="the execution to run")
    recorded = _invoke(pipeline, "PipelineJobWorkflowRecordFailure",
                       _event("record-failure-input.json").copy() | {"job_id": job})
    assert recorded == {"recorded": True, "code": "vendor_task_expired"}
    error = pipeline.read_json(f"results/{job}/error.json")
    assert error and error["code"] == "vendor_task_expired" and "TASK_ID" in error["message"]
    again = _event("execution-failed.json")
    again["detail"]["name"] = job
    assert _invoke(pipeline, "PipelineJobWorkflowExecutionFailed", again) == {"recorded": False, "status": "TIMED_OUT"}


def test_check_status_and_finalize_inputs_drive_a_real_task(pipeline: LocalPipeline, media: Media) -> None:
    job = pipeline.submit("sample-task", media.clip, media.face)
    view = pipeline.wait_for_job(job, timeout=60)
    task_id = view.status["task_id"]  # type: ignore[index]
    polled = _invoke(pipeline, "PipelineJobWorkflowCheckStatus", _event("check-status-input.json", TASK_ID=task_id))
    # The sample's poller started long ago: it would hand over (were the task not final, which comes first).
    assert polled == {"final": True, "status": "success", "count": 1, "interval_seconds": 5, "hand_over": True}
    finalized = _invoke(pipeline, "PipelineJobWorkflowFinalize",
                        _event("finalize-input.json", TASK_ID=task_id) | {"job_id": job})
    assert finalized == {"succeeded": True, "output_key": f"results/{job}/output.mp4"}


def test_store_token_input_parks_the_token(pipeline: LocalPipeline) -> None:
    answer = _invoke(pipeline, "PipelineJobWorkflowStoreToken",
                     _event("store-token-input.json", TASK_ID="parked-task"))
    assert answer == {"registered": True, "signalled": False}


def test_detect_faces_input_checks_the_uploaded_files(pipeline: LocalPipeline, media: Media) -> None:
    s3 = pipeline.client("s3")
    s3.upload_file(str(media.clip), pipeline.bucket, "videos/clip.mp4")
    s3.upload_file(str(media.face), pipeline.bucket, "faces/face.png")
    answer = _invoke(pipeline, "PipelineIngestDetectFaces", _event("detect-faces-input.json", BUCKET=pipeline.bucket))
    assert answer == {"frames_checked": 8, "frames_with_face": 8, "photo_has_face": True}


def test_publish_job_events_stream_batch_publishes_each_state_change(pipeline: LocalPipeline) -> None:
    table = pipeline.client("dynamodb").describe_table(TableName=pipeline.stack.outputs["JobsTableName"])["Table"]
    answer = _invoke(pipeline, "PipelineJobEventsPublishJobEvents",
                     _event("publish-job-events-stream.json", STREAM_ARN=table["LatestStreamArn"]))
    assert answer == {"batchItemFailures": []}
    name = pipeline.stack.function_name("PipelineJobEventsPublishJobEvents")
    published = [json.loads(line) for line in pipeline.stack.runtime.log_lines(name)
                 if '"job event published"' in line and "sample-demo" in line]
    assert [(p["state"], p["sequence"]) for p in published] == [("STARTED", 1), ("SUCCEEDED", 2)]
