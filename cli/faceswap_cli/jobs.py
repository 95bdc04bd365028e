"""The user's side of the job contract, over S3, Step Functions and the jobs table.

Submit: upload the video to videos/, the face to faces/, then write jobs/<name>.json (that upload starts it).
Read:   results/<job_id>/output.mp4, status.json or error.json, the JOB#<job_id> record and the execution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from boto3.dynamodb.types import TypeDeserializer
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from faceswap import layout
from faceswap.layout import ERROR_NAME, FAILED, OUTPUT_NAME, PARTITION_KEY, STARTING, STATUS_NAME, SUCCEEDED, job_key
from faceswap.media import billable_units
from faceswap_cli.errors import BadInput, CliError, JobNotFound
from faceswap_cli.inputs import check_inputs, job_name, upload_name
from faceswap_cli.stack import Clients, StackInfo

# Multipart above 16 MB, 8 parts in flight: a 100 MB video goes up in ~7 parallel parts.
TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024,
                          max_concurrency=8)
CONTENT_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".jpg": "image/jpeg",
                 ".jpeg": "image/jpeg", ".png": "image/png"}
MAX_RUN = 9999  # faceswap.jobs.JobManifest.run


class TransferWatcher(Protocol):
    """Told about a transfer's progress (the CLI draws a bar; pass None for silence)."""

    def begin(self, label: str, total_bytes: int) -> None: ...

    def advance(self, bytes_done: int) -> None: ...  # called from boto3's transfer threads

    def end(self) -> None: ...


@dataclass(frozen=True)
class SubmittedJob:
    job_id: str
    name: str
    run: int
    video_key: str
    face_key: str
    manifest_key: str
    video_seconds: float
    units: int  # what the vendor will charge for this video


@dataclass(frozen=True)
class JobStatus:
    """Everything a user can see about one job."""

    job_id: str
    state: str  # STARTING | QUEUED | SUBMITTED | RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    execution_status: str  # NONE until the start function has created the vendor task
    record: dict[str, Any] | None
    status_doc: dict[str, Any] | None
    error_doc: dict[str, Any] | None
    output_key: str | None

    @property
    def failed(self) -> bool:
        return self.state in (FAILED, "TIMED_OUT", "ABORTED")


def submit_job(clients: Clients, stack: StackInfo, video: Path, face: Path, *, name: str | None = None,
               run: int | None = None, watcher: TransferWatcher | None = None) -> SubmittedJob:
    """Validate locally, upload both files, then the manifest that starts the job."""
    checked = check_inputs(Path(video), Path(face))
    job = job_name(name, checked.video)
    run_number = run or 1
    if not 1 <= run_number <= MAX_RUN:
        raise BadInput(f"--run {run_number} is out of range.", f"Use a run number from 1 to {MAX_RUN}.")
    job_id = layout.job_id(job, run_number)
    _refuse_existing(clients, stack, job_id, job, run_number)
    video_key = f"{stack.videos_prefix}{job_id}/{upload_name(checked.video)}"
    face_key = f"{stack.faces_prefix}{job_id}/{upload_name(checked.face)}"
    upload_file(clients, stack, checked.video, video_key, watcher)
    upload_file(clients, stack, checked.face, face_key, watcher)
    manifest: dict[str, Any] = {"video": video_key, "face": face_key}
    if run_number != 1:
        manifest["run"] = run_number
    manifest_key = stack.manifest_key(job)
    clients.s3.put_object(Bucket=stack.bucket, Key=manifest_key, Body=json.dumps(manifest).encode(),
                          ContentType="application/json")
    seconds = checked.video_info.duration_seconds
    return SubmittedJob(job_id, job, run_number, video_key, face_key, manifest_key, seconds, billable_units(seconds))


def upload_file(clients: Clients, stack: StackInfo, path: Path, key: str, watcher: TransferWatcher | None) -> None:
    extra = {"ContentType": CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")}
    if watcher:
        watcher.begin(f"uploading {path.name}", path.stat().st_size)
    try:
        clients.s3.upload_file(str(path), stack.bucket, key, ExtraArgs=extra, Config=TRANSFER,
                               Callback=watcher.advance if watcher else None)
    finally:
        if watcher:
            watcher.end()


def _refuse_existing(clients: Clients, stack: StackInfo, job_id: str, name: str, run: int) -> None:
    """The pipeline ignores a second manifest for a job that exists: say so now instead of waiting forever."""
    existing = _existing_state(clients, stack, job_id) or _pending_manifest(clients, stack, name, run)
    if existing:
        raise BadInput(f"A job {job_id} already exists ({existing}).",
                       f"Choose another --name, or run it again with `--name {name} --run {run + 1}`.")


def _existing_state(clients: Clients, stack: StackInfo, job_id: str) -> str | None:
    record = read_record(clients, stack, job_id)
    if record:
        return str(record.get("state", "exists"))
    for name in (STATUS_NAME, ERROR_NAME):
        doc = read_json(clients, stack, stack.result_key(job_id, name))
        if doc:
            return str(doc.get("state", "exists"))
    return None


def _pending_manifest(clients: Clients, stack: StackInfo, name: str, run: int) -> str | None:
    """The same manifest uploaded a moment ago, before the start function has recorded anything."""
    try:
        manifest = read_json(clients, stack, stack.manifest_key(name))
        same_run = manifest is not None and int(manifest.get("run", 1)) == run
    except (ValueError, TypeError):  # not our manifest: the pipeline will say so in error.json
        return None
    return "just submitted" if same_run else None


# --- reading ------------------------------------------------------------------------------------------------
def job_status(clients: Clients, stack: StackInfo, job_id: str) -> JobStatus:
    record = read_record(clients, stack, job_id)
    status_doc = read_json(clients, stack, stack.result_key(job_id, STATUS_NAME))
    error_doc = read_json(clients, stack, stack.result_key(job_id, ERROR_NAME))
    execution = execution_status(clients, stack, job_id)
    if not (record or status_doc or error_doc) and execution == "NONE":
        raise JobNotFound(f"There is no job {job_id} in the bucket {stack.bucket}.",
                          "Run `faceswap list` to see the job ids (re-runs are named NAME--runN).")
    output_key = stack.result_key(job_id, OUTPUT_NAME)
    has_output = object_exists(clients, stack, output_key)
    state = _state(record, status_doc, error_doc, execution, has_output)
    return JobStatus(job_id, state, execution, record, status_doc, error_doc, output_key if has_output else None)


def _state(record: dict[str, Any] | None, status_doc: dict[str, Any] | None, error_doc: dict[str, Any] | None,
           execution: str, has_output: bool) -> str:
    recorded = str((record or {}).get("state") or (status_doc or {}).get("state") or "")
    if error_doc or recorded == FAILED:
        return FAILED
    if has_output and recorded == SUCCEEDED:
        return SUCCEEDED
    if execution == "RUNNING":
        return "RUNNING"
    if execution in ("FAILED", "TIMED_OUT", "ABORTED"):
        return execution
    return recorded or STARTING


def execution_status(clients: Clients, stack: StackInfo, job_id: str) -> str:
    try:
        return str(clients.sfn.describe_execution(executionArn=stack.execution_arn(job_id))["status"])
    except clients.sfn.exceptions.ExecutionDoesNotExist:
        return "NONE"


def read_record(clients: Clients, stack: StackInfo, job_id: str) -> dict[str, Any] | None:
    if not stack.jobs_table:
        return None
    item = clients.dynamodb.get_item(TableName=stack.jobs_table, Key={PARTITION_KEY: {"S": job_key(job_id)}},
                                     ConsistentRead=True).get("Item")
    return plain_item(item) if item else None


def read_json(clients: Clients, stack: StackInfo, key: str) -> dict[str, Any] | None:
    try:
        body = clients.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    except clients.s3.exceptions.NoSuchKey:
        return None
    return dict(json.loads(body))


def object_exists(clients: Clients, stack: StackInfo, key: str) -> bool:
    try:
        clients.s3.head_object(Bucket=stack.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def download_result(clients: Clients, stack: StackInfo, job_id: str, path: Path,
                    watcher: TransferWatcher | None = None) -> Path:
    """results/<job_id>/output.mp4 to `path`; a sentence with the fix when there is none (yet)."""
    status = job_status(clients, stack, job_id)
    if status.output_key is None:
        raise no_result_error(status)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = clients.s3.head_object(Bucket=stack.bucket, Key=status.output_key)["ContentLength"]
    if watcher:
        watcher.begin(f"downloading {path.name}", int(size))
    try:
        clients.s3.download_file(stack.bucket, status.output_key, str(path), Config=TRANSFER,
                                 Callback=watcher.advance if watcher else None)
    finally:
        if watcher:
            watcher.end()
    return path


def no_result_error(status: JobStatus) -> CliError:
    if status.failed:
        return job_failed_error(status.job_id, status.error_doc)
    return CliError(f"Job {status.job_id} has no result yet (it is {status.state}).",
                    f"Wait for it with `faceswap wait {status.job_id}`, then fetch the result again.",
                    exit_code=JobNotFound.exit_code)


def job_failed_error(job_id: str, error_doc: dict[str, Any] | None) -> CliError:
    doc = error_doc or {}
    message = str(doc.get("message") or "The job failed without an error report.")
    fix = str(doc.get("what_to_fix") or "Open the execution in the Step Functions console to see which step failed.")
    code = f" [{doc['code']}]" if doc.get("code") else ""
    return CliError(f"Job {job_id} failed{code}: {message}", fix, exit_code=1)


_DESERIALIZER = TypeDeserializer()


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_DESERIALIZER.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value
