"""The whole pipeline on this machine: the synthesized template deployed into moto, the vendor emulator,
secrets set to the emulator's credentials, and the emulator's webhooks delivered through the local API front.

Used by `make demo`, the end-to-end tests and `faceswap --local`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceswap import layout
from faceswap_cli.waiting import wait_ended_by, wait_signal
from local.aws.stack import LocalStack
from local.emulator import Emulator, EmulatorConfig
from local.eventually import eventually

STACK_NAME = "FaceSwap"
# Wait states run 20x faster than on AWS (a 5 s polling_interval takes 0.25 s); the README lists this.
DEFAULT_TIME_SCALE = 0.05
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class LocalPorts:
    """Loopback ports of the local stack; 0 picks a free one (tests), `make local-up` uses fixed ones."""

    moto: int = 0
    emulator: int = 0
    api: int = 0


@dataclass(frozen=True)
class JobView:
    """What a user can see of one job: the execution and the files under results/<job>/."""

    job_id: str
    execution_status: str
    status: dict[str, Any] | None
    error: dict[str, Any] | None
    output_key: str | None


class LocalPipeline:
    def __init__(self, cdk_out: Path, emulator_config: EmulatorConfig | None = None,
                 time_scale: float = DEFAULT_TIME_SCALE, ports: LocalPorts | None = None) -> None:
        self._cdk_out = Path(cdk_out)
        self._emulator_config = emulator_config or EmulatorConfig()
        self._time_scale = time_scale
        self._ports = ports or LocalPorts()
        self._exit = ExitStack()
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.emulator: Emulator
        self.stack: LocalStack

    def __enter__(self) -> LocalPipeline:
        try:
            self.emulator = self._exit.enter_context(Emulator(self._emulator_config, port=self._ports.emulator))
            self.stack = self._exit.enter_context(LocalStack(
                self._cdk_out, STACK_NAME, time_scale=self._time_scale,
                parameters={"VendorBaseUrl": self.emulator.base_url},
                # The start queue runs in real time: the delays its waiting jobs ask for come from real
                # measurements (slot hold times, Retry-After), like the functions' run times they relate to.
                queue_time_scale=1.0, async_invocations=True, retry_async_errors=True,
                moto_port=self._ports.moto, api_port=self._ports.api))
            self._configure_secrets()
            self.emulator.add_webhook_url(self.webhook_url)
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    # --- what the stack exposes ------------------------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return self.stack.outputs["BucketName"]

    @property
    def state_machine_arn(self) -> str:
        return self.stack.outputs["StateMachineArn"]

    @property
    def poller_arn(self) -> str:
        return self.stack.outputs["PollerStateMachineArn"]

    @property
    def webhook_url(self) -> str:
        return str(self.stack.api.url_for("/webhook"))

    def client(self, service: str) -> Any:
        """One client per service, reused (thread-safe): creating one costs more CPU than most calls."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self.stack.client(service)
            return self._clients[service]

    def _configure_secrets(self) -> None:
        """What a user does after `cdk deploy`: put the vendor key and webhook secret into Secrets Manager."""
        sm = self.client("secretsmanager")
        config = self.emulator.config
        sm.put_secret_value(SecretId=self.stack.outputs["ApiKeySecretArn"], SecretString=config.api_key)
        sm.put_secret_value(SecretId=self.stack.outputs["WebhookSecretArn"],
                            SecretString=" ".join(config.webhook_secrets()))

    # --- the user's side of the contract ---------------------------------------------------------------------
    def submit(self, name: str, video: Path, face: Path, run: int | None = None) -> str:
        """Upload the video and the face, then the manifest that starts the job. Returns the job id."""
        s3 = self.client("s3")
        video_key, face_key = f"{layout.VIDEOS_PREFIX}{video.name}", f"{layout.FACES_PREFIX}{face.name}"
        s3.upload_file(str(video), self.bucket, video_key)
        s3.upload_file(str(face), self.bucket, face_key)
        manifest: dict[str, Any] = {"video": video_key, "face": face_key}
        if run is not None:
            manifest["run"] = run
        s3.put_object(Bucket=self.bucket, Key=layout.manifest_key(name), Body=json.dumps(manifest).encode())
        return layout.job_id(name, run or 1)

    def execution_arn(self, job_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"

    def wait_for_job(self, job_id: str, timeout: float = 120.0) -> JobView:
        """Until the execution ends, or, for jobs rejected before an execution, until error.json appears."""
        def ended() -> JobView | None:
            view = self.view(job_id)
            rejected = view.execution_status == "NONE" and view.error is not None  # before an execution started
            return view if view.execution_status in TERMINAL or rejected else None

        try:
            return eventually(ended, timeout, what=f"job {job_id} to finish")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}: {self.view(job_id)}") from exc

    def view(self, job_id: str) -> JobView:
        # Read in the reverse order of writing: the execution ends after its files are written, and error.json
        # is written after status.json, so whatever this sees is complete.
        execution_status = self.execution_status(job_id)
        error = self.read_json(layout.result_key(job_id, layout.ERROR_NAME))
        status = self.read_json(layout.result_key(job_id, layout.STATUS_NAME))
        output_key = layout.result_key(job_id, layout.OUTPUT_NAME)
        return JobView(job_id, execution_status, status, error, output_key if self.exists(output_key) else None)

    def execution_status(self, job_id: str) -> str:
        sfn = self.client("stepfunctions")
        try:
            return str(sfn.describe_execution(executionArn=self.execution_arn(job_id))["status"])
        except sfn.exceptions.ExecutionDoesNotExist:
            return "NONE"

    def history(self, job_id: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=self.execution_arn(job_id),
                                                                 maxResults=1000)["events"]
        return events

    def pollers(self, job_id: str) -> list[dict[str, Any]]:
        """The job's poller executions, oldest first: `<job>_<polls so far>` (layout.poller_name), `<job>_0` first."""
        sfn = self.client("stepfunctions")
        pollers = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=self.poller_arn)
                   for e in page["executions"] if layout.poller_job_id(e["name"]) == job_id]
        return sorted(pollers, key=lambda e: e["startDate"])

    def poller_histories(self, job_id: str) -> list[list[dict[str, Any]]]:
        """(On AWS an Express execution's history is in its log group; moto keeps it like any other.)"""
        sfn = self.client("stepfunctions")
        return [sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"]
                for e in self.pollers(job_id)]

    def entered_states(self, job_id: str) -> list[str]:
        """The job's states, then its pollers' (in the order the pollers ran)."""
        histories = [self.history(job_id), *self.poller_histories(job_id)]
        return [e["stateEnteredEventDetails"]["name"] for events in histories for e in events
                if "stateEnteredEventDetails" in e]

    def wait_signal(self, job_id: str) -> dict[str, Any] | None:
        """The signal that ended the job's wait (None while it waits, or if it failed)."""
        return next(filter(None, map(wait_signal, self.history(job_id))), None)

    def ended_by(self, job_id: str) -> str | None:
        """"webhook" or "polling": who handed the job its token back (None while it waits, or if it failed)."""
        signal = self.wait_signal(job_id)
        return wait_ended_by(signal) if signal is not None else None

    def read_json(self, key: str) -> dict[str, Any] | None:
        s3 = self.client("s3")
        try:
            body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        return dict(json.loads(body))

    def exists(self, key: str) -> bool:
        return bool(self.client("s3").list_objects_v2(Bucket=self.bucket, Prefix=key).get("KeyCount"))

    def download(self, key: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.client("s3").download_file(self.bucket, key, str(path))
        return path

    def reset_admission(self) -> None:
        """Forget admission's state (slots, rate, breaker, cached credit, queue numbers): a test starts with every
        slot free, whatever earlier tests left running."""
        table = self.stack.outputs["JobsTableName"]
        for key in (layout.ADMISSION_KEY, f"{layout.ADMISSION_KEY}#QUEUE"):
            self.client("dynamodb").delete_item(TableName=table, Key={layout.PARTITION_KEY: {"S": key}})

    def job_record(self, job_id: str) -> dict[str, Any] | None:
        key = {layout.PARTITION_KEY: {"S": layout.job_key(job_id)}}
        item = self.client("dynamodb").get_item(TableName=self.stack.outputs["JobsTableName"], Key=key,
                                                ConsistentRead=True).get("Item")
        return item


@contextmanager
def function_environment(pipeline: LocalPipeline, function_prefix: str, **changes: str) -> Iterator[None]:
    """Deploy-time settings changed for one function (like `cdk deploy` with other context): its configuration is
    updated, so new invocations run in fresh workers with the new environment. Restored afterwards."""
    client = pipeline.client("lambda")
    name = pipeline.stack.function_name(function_prefix)
    before = client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    client.update_function_configuration(FunctionName=name, Environment={"Variables": {**before, **changes}})
    try:
        yield
    finally:
        client.update_function_configuration(FunctionName=name, Environment={"Variables": before})
