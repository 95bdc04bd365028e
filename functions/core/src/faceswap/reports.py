"""What the start path tells the user and the operator: the outcome of each upload, status.json while a job waits,
error.json when it cannot run, and the metrics that show waiting (queued jobs, their age, the breaker)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from faceswap.admission import BREAKER_OPEN
from faceswap.errors import ErrorReport
from faceswap.layout import QUEUED

if TYPE_CHECKING:
    from faceswap.records import JobStore
    from faceswap.results import ResultWriter
    from faceswap.youcam.errors import YouCamError

logger = Logger(child=True)
metrics = Metrics()  # Powertools shares metrics between instances: the handler's log_metrics flushes these


@dataclass(frozen=True)
class StartOutcome:
    action: str  # started | queued | duplicate | resumed | rejected | waiting_for_manifest | failed | ignored
    job_id: str
    detail: str = ""


@dataclass
class Reporter:
    store: JobStore
    results: ResultWriter

    def failed(self, job_id: str, report: ErrorReport) -> StartOutcome:
        """The job ends here (first final state wins): FAILED on its record, then error.json."""
        logger.warning("job rejected", extra={"code": report.code})
        if self.store.mark_failed(job_id, report):
            self.results.write_error(job_id, report, self.store.get(job_id))
        return StartOutcome("failed", job_id, report.code)

    def error_only(self, job_id: str, report: ErrorReport) -> None:
        """error.json without touching the record (another attempt owns it, or it cannot be written)."""
        self.results.write_error(job_id, report)

    def queued(self, job_id: str, first: bool, reason: str, waited_seconds: float) -> None:
        """status.json says QUEUED the first time (and since when); every wait shows in the metrics."""
        if first:
            self.results.write_status(job_id, self.store.get(job_id) or {}, QUEUED)
            metrics.add_metric(name="JobsQueued", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="QueuedJobAgeSeconds", unit=MetricUnit.Seconds, value=max(0.0, waited_seconds))
        metrics.add_metric(name="BreakerOpen", unit=MetricUnit.Count, value=1 if reason == BREAKER_OPEN else 0)
        logger.info("job waits in the start queue", extra={"reason": reason, "waited_seconds": round(waited_seconds)})


def start_interrupted(message: str) -> ErrorReport:
    return ErrorReport("StartInterrupted", "start_interrupted", message,
                       "Check the vendor console for the task, then re-run with a new \"run\" number.")


def uncertain_create(exc: YouCamError) -> ErrorReport:
    return ErrorReport(
        "TaskCreateUncertain", "task_create_uncertain",
        f"The vendor failed while creating the task ({exc}); it may have created, and billed, it anyway.",
        "Check the vendor console for a task created at this time. If there is none, re-run with a new \"run\" "
        "number (or deploy with faceswap:retry_create_on_server_error=true to retry such failures).",
        exc.code)
