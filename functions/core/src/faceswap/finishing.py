"""The end of a job: trust the API's final status, copy the result, write what the user reads.

Used by Finalize (after the race), Record failure (caught errors) and the execution-failed rule (anything the
state machine could not catch: run timeout, abort). Each gives the job's admission slot back as soon as the vendor
task is over, so that a waiting job can start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from faceswap.errors import (
    ErrorReport,
    TaskStillRunning,
    VendorTaskExpired,
    VendorTaskFailed,
    VendorUnavailable,
    vendor_task_error,
)
from faceswap.layout import OUTPUT_NAME, SUCCEEDED
from faceswap.records import JobStore
from faceswap.results import ResultWriter
from faceswap.states import FinalizeOutput
from faceswap.transfer import copy_result_to_s3
from faceswap.youcam.errors import InvalidTaskId, YouCamError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from faceswap.youcam.client import YouCamClient
    from faceswap.youcam.models import TaskStatus

logger = Logger(child=True)


class Slots(Protocol):
    """faceswap.admission.AdmissionControl, as far as the end of a job needs it."""

    def release(self, job_id: str, held_seconds: float | None = None) -> bool: ...


@dataclass
class Finisher:
    s3: S3Client
    bucket: str
    store: JobStore
    results: ResultWriter
    slots: Slots | None = None  # None: no admission control (tests of the finishing alone)
    clock: Callable[[], float] = field(default=time.time)

    def finalize(self, job_id: str, task_id: str, client: YouCamClient) -> FinalizeOutput:
        """Runs once the vendor task succeeded (the poller hands a failed task to Record failure itself). Should
        the API now say otherwise, the failure is recorded and raised: the job must not end SUCCEEDED."""
        status = _final_status(client, task_id)
        self._free_slot(self.store.get(job_id))  # the vendor's work is over, whatever the copy below does
        if not status.succeeded:
            raise self._vendor_failure(job_id, status)
        output_key = self.results.key(job_id, OUTPUT_NAME)
        try:
            copy_result_to_s3(client, status.result_url or "", self.s3, self.bucket, output_key)
        except YouCamError as exc:
            raise _transient_or(exc) from exc
        if self.store.mark_succeeded(job_id, output_key):
            self.results.write_status(job_id, self.store.get(job_id) or {}, SUCCEEDED)
        logger.info("job succeeded", extra={"output_key": output_key})
        return FinalizeOutput(succeeded=True, output_key=output_key)

    def record_failure(self, job_id: str, report: ErrorReport) -> bool:
        """Writes error.json unless the job already ended (first final state wins)."""
        recorded = self.store.mark_failed(job_id, report)
        record = self.store.get(job_id)
        self._free_slot(record)
        if not recorded:
            logger.info("job already final; failure not recorded", extra={"code": report.code})
            return False
        self.results.write_error(job_id, report, record)
        logger.warning("job failed", extra={"code": report.code, "error_class": report.error_class})
        return True

    def _free_slot(self, record: dict[str, Any] | None) -> None:
        """Only a job that was admitted holds a slot (releasing is idempotent)."""
        if self.slots is not None and record and "admitted_epoch" in record:
            self.slots.release(str(record["job_id"]), self.clock() - float(record["admitted_epoch"]))

    def _vendor_failure(self, job_id: str, status: TaskStatus) -> VendorTaskFailed:
        report = ErrorReport.for_vendor_task(status.error_code, status.error_message)
        self.record_failure(job_id, report)
        error = vendor_task_error(status.error_code, status.error_message)["Error"]
        return VendorTaskFailed(f"{error}: {report.message} {report.what_to_fix}")


def _final_status(client: YouCamClient, task_id: str) -> TaskStatus:
    try:
        status = client.get_task(task_id)
    except InvalidTaskId as exc:
        raise VendorTaskExpired(f"The vendor no longer knows task {task_id}: {exc.message}") from exc
    except YouCamError as exc:
        raise _transient_or(exc) from exc
    if not status.is_final:
        raise TaskStillRunning(f"task {task_id} is still {status.status}")
    return status


def _transient_or(exc: YouCamError) -> Exception:
    """Retryable vendor faults become VendorUnavailable, which the state machine retries with backoff."""
    return VendorUnavailable(str(exc)) if exc.retryable else exc
