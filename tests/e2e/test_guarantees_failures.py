"""Guarantee: nothing fails silently.

Failures the state machine records itself (vendor errors, poll limit) are in the other guarantee files. Here: what
it cannot record — a run timeout or a StopExecution ends the execution itself — is written by the EventBridge rule
on FAILED / TIMED_OUT / ABORTED executions (the execution-failed function); and an upload event that keeps failing
lands, after Lambda's two retries, in the start function's dead-letter queue (which has an alarm, see
tests/infra/test_guarantees_template.py), from where it can be replayed once the cause is gone.

The run timeout needs its own variant of the app (a 1-minute run timeout, 3 s locally), synthesized here and
deployed next to the main stack in the same moto.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.config import PipelineConfig
from infra.functions import LOCAL_ASSETS_CONTEXT
from infra.stack import FaceSwapStack
from local.aws.deploy import DeployedStack, deploy_stack
from local.eventually import eventually
from local.pipeline import LocalPipeline
from tests.e2e.guarantees import START_QUEUE, dead_letters, queue_url, visibility_timeout
from tests.media import Media

VARIANT = "FaceSwapRunTimeout"
CHECK_STATUS = "PipelineJobWorkflowCheckStatus"
EXECUTION_FAILED = "PipelineJobWorkflowExecutionFailed"
ABORTED_RECORDED = {"recorded": True, "status": "ABORTED"}  # what the execution-failed function returns
CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


@dataclass(frozen=True)
class Variant:
    pipeline: LocalPipeline
    deployed: DeployedStack

    @property
    def bucket(self) -> str:
        return self.deployed.outputs["BucketName"]

    def execution_status(self, job: str) -> str:
        arn = self.deployed.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{job}"
        sfn = self.pipeline.client("stepfunctions")
        try:
            return str(sfn.describe_execution(executionArn=arn)["status"])
        except sfn.exceptions.ExecutionDoesNotExist:
            return "NONE"

    def read_json(self, key: str) -> dict[str, Any] | None:
        s3 = self.pipeline.client("s3")
        try:
            return dict(json.loads(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()))
        except s3.exceptions.NoSuchKey:
            return None


@pytest.fixture(scope="module")
def short_run_timeout(local_pipeline: LocalPipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Variant]:
    """The same app with a 1-minute run timeout (and polling that would go on for hours), deployed beside. Its job
    waits for the vendor longer than it may run: no user can configure that (webhook_wait_minutes is at most the
    run timeout), it stands for any step that outlasts the run."""
    outdir = tmp_path_factory.mktemp("cdk.out.run-timeout")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    context = {**json.loads(CDK_JSON.read_text()).get("context", {}), LOCAL_ASSETS_CONTEXT: True}  # runs here
    app = cdk.App(outdir=str(outdir), context=context)
    config = PipelineConfig(run_timeout_minutes=1, webhook_wait_minutes=10, max_polls=10_000,
                            face_precheck=False)  # not what this variant is about: no detector to deploy
    FaceSwapStack(app, VARIANT, config=config)
    app.synth()
    deployed = deploy_stack(outdir, VARIANT, endpoint_url=local_pipeline.stack.endpoint_url,
                            parameters={"VendorBaseUrl": local_pipeline.emulator.base_url})
    local_pipeline.client("secretsmanager").put_secret_value(SecretId=deployed.outputs["ApiKeySecretArn"],
                                                             SecretString=local_pipeline.emulator.config.api_key)
    yield Variant(local_pipeline, deployed)


def test_a_run_timeout_is_recorded_by_the_execution_failed_rule(short_run_timeout: Variant, pipeline: LocalPipeline,
                                                                media: Media) -> None:
    variant = short_run_timeout
    pipeline.emulator.set_faults(never_finish=True)
    s3 = pipeline.client("s3")
    s3.upload_file(str(media.clip), variant.bucket, "videos/clip.mp4")
    s3.upload_file(str(media.face), variant.bucket, "faces/face.png")
    s3.put_object(Bucket=variant.bucket, Key="jobs/g-hangs.json",
                  Body=b'{"video": "videos/clip.mp4", "face": "faces/face.png"}')

    error = eventually(lambda: variant.read_json("results/g-hangs/error.json"), 60, what="error.json")
    assert variant.execution_status("g-hangs") == "TIMED_OUT"
    assert error["code"] == "run_timeout" and error["error_class"] == "ExecutionTimedOut"
    assert "run_timeout_minutes" in error["what_to_fix"]
    assert error["task_id"] and error["units"] == 1  # what was spent, for the user to check
    status = variant.read_json("results/g-hangs/status.json")
    assert status is not None and status["state"] == "FAILED"


def test_a_stopped_execution_is_recorded_by_the_execution_failed_rule(pipeline: LocalPipeline, media: Media) -> None:
    # A task that never finishes and no webhook: the job waits for its token, its poller polls, until someone stops
    # the job.
    pipeline.emulator.set_faults(never_finish=True, webhook_drop=True)
    job = pipeline.submit("g-stopped", media.clip, media.face)
    eventually(lambda: _racing(pipeline, job), 60, what="the job to wait and poll")

    # As a user would from the console: StopExecution, no error or cause.
    pipeline.client("stepfunctions").stop_execution(executionArn=pipeline.execution_arn(job))

    error = eventually(lambda: pipeline.read_json(f"results/{job}/error.json"), 30, what="error.json")
    assert pipeline.execution_status(job) == "ABORTED"
    assert error["code"] == "aborted" and error["error_class"] == "ExecutionAborted"
    assert error["what_to_fix"] == 'Re-run the job with a new "run" number.'
    assert error["task_id"] and error["units"] == 1  # what was spent, for the user to check
    record = pipeline.job_record(job)
    assert record is not None and record["state"]["S"] == "FAILED"
    assert record["error"]["M"]["code"]["S"] == "aborted"
    # Written by the EventBridge rule's function (the state machine's own Record failure never ran).
    assert eventually(lambda: _recorder_results(pipeline, job) or None, 10, what="the recorder") == [ABORTED_RECORDED]
    assert "Record failure" not in pipeline.entered_states(job)
    history = pipeline.history(job)
    assert history[-1]["type"] == "ExecutionAborted"

    # The poller's next heartbeat finds the token spent and it ends without polling again (a poll in flight at the
    # stop may still end, as on AWS). Eight polling intervals later nothing ran, nothing was written.
    ended = eventually(lambda: _poller_ended(pipeline, job), 10, what="the poller to end")
    assert ended == "Job no longer waiting"
    polls = _polls(pipeline, job)
    time.sleep(2.0)
    assert pipeline.history(job) == history
    assert _polls(pipeline, job) == polls == sum(
        _scheduled(events, pipeline.stack.function_name(CHECK_STATUS)) for events in pipeline.poller_histories(job))
    assert _recorder_results(pipeline, job) == [ABORTED_RECORDED]  # one status-change event, recorded once
    view = pipeline.view(job)
    assert (view.execution_status, view.error, view.output_key) == ("ABORTED", error, None)
    assert view.status is not None and view.status["state"] == "FAILED"


def test_a_message_that_keeps_failing_lands_in_the_dead_letter_queue(pipeline: LocalPipeline) -> None:
    """Waiting never sends a job there (a waiting job is a new message); a message that fails every delivery does,
    after three (the queue's redrive policy), and the StartJobDeadLetters alarm fires."""
    dead_letters(pipeline)  # start from an empty queue
    poison = {"not": "an S3 event"}
    with visibility_timeout(pipeline, 2):
        pipeline.client("sqs").send_message(QueueUrl=queue_url(pipeline, START_QUEUE), MessageBody=json.dumps(poison))
        (message,) = eventually(lambda: dead_letters(pipeline) or None, 60, what="a dead letter")
    assert message == poison  # as it was sent, to replay once the cause is fixed
    assert pipeline.stack.event_sources.wait_idle(timeout=30), pipeline.stack.event_sources.describe()


def _racing(pipeline: LocalPipeline, job: str) -> bool:
    """The job waits for its token and its poller has polled at least once."""
    if pipeline.execution_status(job) != "RUNNING":
        return False
    token_waiting = any(e["type"] == "TaskSubmitted" for e in pipeline.history(job))
    return token_waiting and _polls(pipeline, job) > 0


def _poller_ended(pipeline: LocalPipeline, job: str) -> str | None:
    """The last state the job's last poller entered, once that poller has ended."""
    last = pipeline.poller_histories(job)[-1]
    if last[-1]["type"] not in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
        return None
    return str([e for e in last if "stateEnteredEventDetails" in e][-1]["stateEnteredEventDetails"]["name"])


def _scheduled(history: list[dict[str, Any]], function_name: str) -> int:
    """Lambda invocations of one function the execution scheduled (retries included)."""
    return sum(1 for e in history if e["type"] == "LambdaFunctionScheduled"
               and e["lambdaFunctionScheduledEventDetails"]["resource"].endswith(f":function:{function_name}"))


def _recorder_results(pipeline: LocalPipeline, job: str) -> list[Any]:
    """What the execution-failed function returned for the status-change events of one job's execution."""
    name = pipeline.stack.function_name(EXECUTION_FAILED)
    return [i.result for i in pipeline.stack.runtime.invocations
            if i.function_name == name and i.event.get("detail", {}).get("name") == job]


def _polls(pipeline: LocalPipeline, job: str) -> int:
    """Invocations of the check-status function for one job (each one asks the vendor for the task's status)."""
    name = pipeline.stack.function_name(CHECK_STATUS)
    return sum(1 for i in pipeline.stack.runtime.invocations if i.function_name == name and i.event["job_id"] == job)


def _key_of(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["s3"]["object"]["key"])
