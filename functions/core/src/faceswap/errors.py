"""Pipeline errors and the one report shape a user reads in results/<job>/error.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from faceswap.youcam.errors import InvalidApiKey, TaskTimedOut, task_error_from_code


class JobRejected(Exception):
    """The upload does not describe a job we can run (bad manifest, wrong prefix, missing file...)."""

    def __init__(self, code: str, message: str, what_to_fix: str) -> None:
        super().__init__(f"{message} {what_to_fix}")
        self.code = code
        self.message = message
        self.what_to_fix = what_to_fix


# Exception class names double as Step Functions error names (errorType): the state machine retries these.
class VendorUnavailable(Exception):
    """The vendor could not be reached or kept failing after the client's retries; try again later."""


class TaskStillRunning(Exception):
    """Finalize was reached while the vendor still reports the task as running (e.g. an early webhook)."""


class VendorTaskExpired(Exception):
    """The vendor no longer knows the task id (not polled in time, or older than 24 h)."""


class VendorTaskFailed(Exception):
    """Finalize found the task failed although the wait ended as a success (recorded before it is raised)."""


VENDOR_ERROR_PREFIX = "Vendor."  # Step Functions error names of failed vendor tasks: Vendor.<engine code>
# Error names the poller itself gives the job (no function raises them): its poll limit, and a Step Functions error
# renamed (SendTaskFailure refuses names that begin with "States.").
POLL_LIMIT_REACHED = "PollLimitReached"
POLLER_FAILED = "PollerFailed"


def vendor_task_error(code: str | None, message: str | None) -> dict[str, str]:
    """The {Error, Cause} of a vendor task that ended in error, as the state machine carries it."""
    return {"Error": f"{VENDOR_ERROR_PREFIX}{code or 'unknown'}", "Cause": message or "The vendor task failed."}


@dataclass(frozen=True)
class ErrorReport:
    """What went wrong, in words a user can act on. Written as error.json and kept on the job record."""

    error_class: str
    code: str
    message: str
    what_to_fix: str
    vendor_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorReport:
        """Any of our typed errors (JobRejected, MediaInvalid, YouCamError) carries code/message/what_to_fix."""
        code = getattr(exc, "code", None)
        message = getattr(exc, "message", None)
        fix = getattr(exc, "what_to_fix", None)
        if code and message and fix:
            vendor = code if type(exc).__module__.startswith("faceswap.youcam") else None
            return cls(type(exc).__name__, str(code), str(message), str(fix), vendor)
        return cls(type(exc).__name__, "internal_error", str(exc) or type(exc).__name__,
                   "This is a bug or an outage on our side: check the function logs for the job id, then re-run.")

    @classmethod
    def for_vendor_task(cls, code: str | None, message: str | None) -> ErrorReport:
        """A vendor task that ended in error, by its engine code (unknown codes are reported as they are)."""
        if not code or code == "unknown":
            return cls("TaskFailed", "unknown", message or "The vendor task failed.",
                       "Re-run the job; contact the vendor if it keeps failing.")
        return cls.from_exception(task_error_from_code(code, message or "task failed"))

    @classmethod
    def from_state_machine_error(cls, error: str, cause: str | None) -> ErrorReport:
        """Turn a Step Functions {Error, Cause} (a Lambda's errorType/errorMessage JSON, or a state's own) into a
        report."""
        message = _cause_message(cause) or error
        if error.startswith(VENDOR_ERROR_PREFIX):  # a failed vendor task, seen by the poller
            return cls.for_vendor_task(error.removeprefix(VENDOR_ERROR_PREFIX), message)
        known = _STATE_MACHINE_ERRORS.get(error)
        if known:
            return cls(error, known[0], message, known[1])
        return cls(error, "pipeline_error", message,
                   "Open the execution in the Step Functions console to see which state failed, then re-run.")


def _cause_message(cause: str | None) -> str:
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return str(parsed.get("errorMessage", cause)) if isinstance(parsed, dict) else cause


_STATE_MACHINE_ERRORS: dict[str, tuple[str, str]] = {
    VendorTaskExpired.__name__: (
        "vendor_task_expired", "The vendor forgot the task (not polled in time). Re-run the job with a new \"run\" "
        "number; check the vendor console for units already spent."),
    POLL_LIMIT_REACHED: (
        "poll_limit_reached", "The vendor took longer than max_polls allows. Raise faceswap:max_polls or re-run "
        "later."),
    VendorUnavailable.__name__: (
        "vendor_unavailable", "The vendor kept failing or rate-limiting us. Re-run later."),
    POLLER_FAILED: (
        "poller_failed", "The poller could not check the vendor task (the message names the step; see the poller's "
        "log group). Re-run the job with a new \"run\" number."),
    "States.HeartbeatTimeout": (
        "poller_lost", "The job's poller stopped (see the poller's log group and the PollerExecutionsFailed alarm) and "
        "no webhook came. Re-run the job with a new \"run\" number."),
    "States.Timeout": ("timeout", "A step timed out. Re-run the job; raise the timeouts if it keeps happening."),
    "States.TaskFailed": ("task_failed", "A step failed; see the execution in the Step Functions console."),
    InvalidApiKey.__name__: ("InvalidApiKey", "Put a valid YouCam API key into the API-key secret, then re-run."),
    TaskTimedOut.__name__: ("TaskTimeout", "The vendor timed out processing the video. Re-run the job later."),
}
