"""The end of a job (faceswap.finishing): what Finalize decides from the vendor's final answer, and that the first
final state wins. The vendor is a stub answering what each case needs; S3 and DynamoDB are moto's."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import pytest

from faceswap.errors import ErrorReport, TaskStillRunning, VendorTaskExpired, VendorTaskFailed, VendorUnavailable
from faceswap.finishing import Finisher
from faceswap.records import JobStore
from faceswap.results import ResultWriter
from faceswap.states import FinalizeOutput
from faceswap.youcam.client import YouCamClient
from faceswap.youcam.errors import InvalidApiKey, InvalidTaskId, ResultDownloadFailed, ServerError
from faceswap.youcam.models import TaskStatus
from tests.unit.conftest import BUCKET, submit_job

JOB, TASK = "holiday", "task-1"
RESULT = b"\x00\x00\x00\x18ftypmp42 the swapped video"


@dataclass
class _Vendor:
    """get_task answers `status` (or raises it); the result download yields `result` (or raises it)."""

    status: TaskStatus | Exception
    result: bytes | Exception = RESULT

    def get_task(self, task_id: str) -> TaskStatus:
        if isinstance(self.status, Exception):
            raise self.status
        return self.status

    @contextmanager
    def open_result(self, url: str) -> Iterator[Any]:
        assert url == "https://vendor.example/result.mp4"
        if isinstance(self.result, Exception):
            raise self.result
        yield _Download(self.result)


@dataclass
class _Download:
    data: bytes

    def as_binary_io(self) -> io.BytesIO:
        return io.BytesIO(self.data)


def _succeeded() -> TaskStatus:
    return TaskStatus(TASK, "success", result_url="https://vendor.example/result.mp4")


@pytest.fixture
def store(aws: dict[str, Any]) -> JobStore:
    submit_job(aws["table"], JOB, TASK)
    return JobStore(aws["table"])


@pytest.fixture
def finisher(aws: dict[str, Any], store: JobStore) -> Finisher:
    return Finisher(aws["s3"], BUCKET, store, ResultWriter(aws["s3"], BUCKET, "results/"))


def _finalize(finisher: Finisher, vendor: _Vendor) -> FinalizeOutput:
    return finisher.finalize(JOB, TASK, cast(YouCamClient, vendor))


def _read(aws: dict[str, Any], name: str) -> dict[str, Any] | bytes | None:
    try:
        body = aws["s3"].get_object(Bucket=BUCKET, Key=f"results/{JOB}/{name}")["Body"].read()
    except aws["s3"].exceptions.NoSuchKey:
        return None
    return dict(json.loads(body)) if name.endswith(".json") else bytes(body)


def test_a_succeeded_task_is_copied_and_recorded(aws: dict[str, Any], finisher: Finisher, store: JobStore) -> None:
    assert _finalize(finisher, _Vendor(_succeeded())) == FinalizeOutput(succeeded=True,
                                                                        output_key=f"results/{JOB}/output.mp4")
    assert _read(aws, "output.mp4") == RESULT
    status = _read(aws, "status.json")
    assert isinstance(status, dict) and (status["state"], status["task_id"]) == ("SUCCEEDED", TASK)
    assert "claim_token" not in status  # internal fields stay out of what users read
    record = store.get(JOB)
    assert record is not None and (record["state"], record["output_key"]) == ("SUCCEEDED", f"results/{JOB}/output.mp4")


def test_a_job_that_already_ended_keeps_its_end(aws: dict[str, Any], finisher: Finisher, store: JobStore) -> None:
    assert finisher.record_failure(JOB, ErrorReport("X", "first", "the first end", "nothing"))
    _finalize(finisher, _Vendor(_succeeded()))
    record = store.get(JOB)
    assert record is not None and record["state"] == "FAILED" and record["error"]["code"] == "first"
    status = _read(aws, "status.json")
    assert isinstance(status, dict) and status["state"] == "FAILED"  # not overwritten by a late success


def test_a_failure_is_recorded_once_first_final_state_wins(aws: dict[str, Any], finisher: Finisher) -> None:
    assert finisher.record_failure(JOB, ErrorReport("A", "first", "first cause", "fix a")) is True
    assert finisher.record_failure(JOB, ErrorReport("B", "second", "second cause", "fix b")) is False
    error = _read(aws, "error.json")
    assert isinstance(error, dict) and (error["code"], error["state"]) == ("first", "FAILED")


def test_a_task_the_api_reports_failed_is_recorded_then_raised(aws: dict[str, Any], finisher: Finisher,
                                                               store: JobStore) -> None:
    failed = TaskStatus(TASK, "error", error_code="error_no_face", error_message="no face in the video")
    with pytest.raises(VendorTaskFailed, match=r"^Vendor\.error_no_face: "):
        _finalize(finisher, _Vendor(failed))
    error = _read(aws, "error.json")
    assert isinstance(error, dict) and error["vendor_code"] == "error_no_face"
    record = store.get(JOB)
    assert record is not None and record["state"] == "FAILED"
    assert _read(aws, "output.mp4") is None


@pytest.mark.parametrize(("answer", "raised"), [
    (TaskStatus(TASK, "running"), TaskStillRunning),  # an early webhook: the state machine retries
    (InvalidTaskId("unknown task"), VendorTaskExpired),
    (ServerError("busy", http_status=503, retryable=True), VendorUnavailable),  # retried with backoff
    (InvalidApiKey("bad key", http_status=401), InvalidApiKey),  # not retryable: as it is
])
def test_what_the_status_call_says_decides_what_the_state_machine_sees(
        aws: dict[str, Any], finisher: Finisher, store: JobStore, answer: TaskStatus | Exception,
        raised: type[Exception]) -> None:
    with pytest.raises(raised):
        _finalize(finisher, _Vendor(answer))
    record = store.get(JOB)
    assert record is not None and record["state"] == "SUBMITTED"  # nothing recorded: a retry may still succeed
    assert _read(aws, "status.json") is None and _read(aws, "error.json") is None


def test_a_result_download_that_may_work_later_is_retried(aws: dict[str, Any], finisher: Finisher,
                                                          store: JobStore) -> None:
    vendor = _Vendor(_succeeded(), ResultDownloadFailed("connection reset", retryable=True))
    with pytest.raises(VendorUnavailable):
        _finalize(finisher, vendor)
    record = store.get(JOB)
    assert record is not None and record["state"] == "SUBMITTED"
