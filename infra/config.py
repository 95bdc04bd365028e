"""User configuration: CDK context (cdk.json or `-c key=value`), validated at synth time."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from aws_cdk import aws_logs as logs
from constructs import Node

from faceswap import layout
from faceswap.budgets import AFTER_WAIT_SECONDS, JOB_HEARTBEAT_SECONDS, MAX_WAIT_SECONDS
from faceswap.vendor_inputs import INPUT_MODES

CONTEXT_PREFIX = "faceswap:"
ARCHITECTURES = ("arm64", "x86_64")  # Lambda's names
T = TypeVar("T")
EVENT_BUS_NAME = r"[/.\-_A-Za-z0-9]{1,256}"  # EventBridge's pattern for a bus name
EVENT_BUS_ARN = r"arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[/.\-_A-Za-z0-9]{1,256}"
MAX_POLLS = 10_000  # also what keeps a poller's name (<job>_<count>) within 80 characters


class ConfigError(ValueError):
    """A context value that cannot work; raised at synth, before anything is deployed."""


def setting(default: T, meaning: str, accepted: str) -> T:
    """A PipelineConfig field and its documentation, in one place: docs/configuration.md's table is generated from
    these (`make diagram`), and a field without them fails the docs tests. Keep each text under ~200 characters."""
    return field(default=default, metadata={"meaning": meaning, "accepted": accepted})


@dataclass(frozen=True)
class PipelineConfig:
    """Every knob a user can turn: the context key `faceswap:<field>`, or the constructor argument."""

    vendor_base_url: str = setting(
        "https://yce-api-01.makeupar.com",
        "YouCam API origin; the default of the stack parameter `VendorBaseUrl`, which overrides it at deploy time.",
        "an `http(s)://host[:port]` origin, no path")
    vendor_file_path: str = setting(
        "/s2s/v2.0/file/face-swap-vid",
        "File API path used to upload the inputs (the vendor also documents `/s2s/v2.0/file`: on a 404 the client "
        "tries the other).",
        "any path")
    polling_interval_unit: str = setting(
        "auto", "Unit of the API's `polling_interval` (unconfirmed): `auto` reads values over 300 as milliseconds.",
        "`auto`, `s`, `ms`")
    retry_create_on_server_error: bool = setting(
        False, "Retry *create task* after a 5xx or a lost answer (a lasting 5xx: the job waits in the queue). Off: the "
        "job fails with `task_create_uncertain` rather than risk a second, billed task.", "`true`, `false`")
    default_polling_interval_seconds: int = setting(
        5, "Wait between two polls when the API sends no `polling_interval` (the API's own is capped at 105 s: one "
        "Wait of the Express poller, whose worst case must stay under 5 minutes).", "1 to 105")
    max_polls: int = setting(720, "Polls before a job gives up with `poll_limit_reached` (720 x 5 s = 1 h).",
                             "1 to 10000")
    run_timeout_minutes: int = setting(
        120, "Timeout of one execution; a timed-out job gets `error.json` with `run_timeout`. More than "
        "`webhook_wait_minutes` + 24 (Finalize and Record failure at their worst come after the wait).", "32 to 1440")
    webhook_wait_minutes: int = setting(
        90, "How long a job waits for its vendor task to end (webhook or poll) before it fails with `timeout`; longer "
        "than the 6-minute heartbeat of its poller, and 24 less than `run_timeout_minutes`.", "7 to 1415")
    videos_prefix: str = setting(
        layout.VIDEOS_PREFIX, "Where videos are uploaded (an upload here with `face-key` metadata also starts a job).",
        "`name/`: letters, digits, `_`, `-`, one trailing `/`; the four prefixes must differ")
    faces_prefix: str = setting(layout.FACES_PREFIX, "Where face photos are uploaded.", "as above")
    jobs_prefix: str = setting(
        layout.JOBS_PREFIX, "Where `<name>.json` manifests are uploaded; an upload here starts a job.", "as above")
    results_prefix: str = setting(
        layout.RESULTS_PREFIX, "Where `<job_id>/output.mp4`, `status.json` and `error.json` are written.", "as above")
    results_retention_days: int = setting(
        30, "Lifecycle expiry of everything under the results prefix.", "1 to 3650")
    inputs_retention_days: int = setting(7, "Lifecycle expiry of uploaded videos, faces and manifests.", "1 to 3650")
    alarm_email: str = setting(
        "", "E-mail address subscribed to the alarm topic (confirm the subscription mail AWS sends).",
        "empty, or an e-mail address")
    webhook_rate_limit_rps: int = setting(
        50, "API Gateway stage throttling of the webhook endpoint, requests per second.", "1 to 10000")
    webhook_burst_limit: int = setting(100, "API Gateway burst limit of the webhook endpoint.", "1 to 5000")
    log_retention_days: int = setting(
        30, "Retention of every log group (functions, state machines, API access logs).",
        "1, 3, 7, 14, 30, 60, 90, 180 or 365")
    face_precheck: bool = setting(
        True, "Deploy the face pre-check: no face in the video or the photo is rejected before a unit is spent. "
        "`false`: no detector; the vendor finds faceless inputs after charging.", "`true`, `false`")
    face_precheck_samples: int = setting(
        8, "Video frames, spread evenly over the video, in which the pre-check looks for a face (more: fewer misses, "
        "a longer check).", "1 to 32")
    architecture: str = setting(
        "arm64", "CPU of every function (runtime `python3.13`): `arm64` (Graviton) is billed ~20 % less per "
        "GB-second; the bundled wheels are built for it.", "`arm64`, `x86_64`")
    max_tasks_in_flight: int = setting(
        10, "Vendor tasks running at once at most (the vendor publishes no per-account limit): more jobs wait in the "
        "start queue, in order, and start as slots free.", "1 to 1000")
    max_creates_per_second: float = setting(
        2.0, "Create-task calls per second at most (a token bucket): a burst waits instead of meeting the vendor's "
        "429s.", "0.01 to 100")
    max_queue_wait_minutes: int = setting(
        360, "How long a job may wait in the start queue (for a slot, the rate, the vendor) before it ends with "
        "`queue_wait_exceeded`.", "1 to 20160")
    credit_wait_minutes: int = setting(
        60, "A job the balance cannot pay for waits this long (re-reading the balance) before `credit_insufficient`; "
        "0: it ends at once. Either way no unit is spent.", "0 to 20160")
    input_mode: str = setting(
        "upload", "How the vendor gets the inputs: `upload` streams them through its File API; `url` hands it "
        "presigned GET URLs that it fetches itself (no media through the function).", "`upload`, `url`")
    input_url_ttl_minutes: int = setting(
        60, "`url` mode: how long the presigned URLs stay valid (they also end with the function's role "
        "credentials).", "5 to 720")
    event_bus_name: str = setting(
        "default", "EventBridge bus the job state changes are published to (docs/events.md): a bus name or ARN; "
        "`default` is the account's default bus.", "`default`, a bus name, or a bus ARN")

    @classmethod
    def from_context(cls, node: Node) -> PipelineConfig:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = node.try_get_context(CONTEXT_PREFIX + f.name)
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, type(f.default))
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        if not re.fullmatch(r"https?://[^\s/]+(:\d+)?", self.vendor_base_url.rstrip("/")):
            raise ConfigError(f"vendor_base_url must be an http(s) origin, got {self.vendor_base_url!r}")
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(f"architecture must be {' or '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.polling_interval_unit not in ("auto", "s", "ms"):
            raise ConfigError(f"polling_interval_unit must be auto, s or ms, got {self.polling_interval_unit!r}")
        # One Wait of the Express poller, which runs at most 5 minutes, must leave room for the rest (budgets).
        _check_range("default_polling_interval_seconds", self.default_polling_interval_seconds, 1, MAX_WAIT_SECONDS)
        _check_range("max_polls", self.max_polls, 1, MAX_POLLS)
        _check_range("run_timeout_minutes", self.run_timeout_minutes, 1, 24 * 60)
        self._check_timeouts_nest()
        _check_range("results_retention_days", self.results_retention_days, 1, 3650)
        _check_range("inputs_retention_days", self.inputs_retention_days, 1, 3650)
        _check_range("webhook_rate_limit_rps", self.webhook_rate_limit_rps, 1, 10_000)
        _check_range("webhook_burst_limit", self.webhook_burst_limit, 1, 5_000)
        _check_range("face_precheck_samples", self.face_precheck_samples, 1, 32)
        self._validate_admission()
        prefixes = [self.videos_prefix, self.faces_prefix, self.jobs_prefix, self.results_prefix]
        for prefix in prefixes:
            if not re.fullmatch(r"[A-Za-z0-9_\-]+/", prefix):
                raise ConfigError(f"bucket prefixes must look like 'name/', got {prefix!r}")
        if len(set(prefixes)) != len(prefixes):
            raise ConfigError("videos, faces, jobs and results prefixes must all differ")
        if self.alarm_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email):
            raise ConfigError(f"alarm_email is not an e-mail address: {self.alarm_email!r}")
        if not (re.fullmatch(EVENT_BUS_NAME, self.event_bus_name) or re.fullmatch(EVENT_BUS_ARN, self.event_bus_name)):
            raise ConfigError(f"event_bus_name must be an EventBridge bus name or ARN, got {self.event_bus_name!r}")

    def _validate_admission(self) -> None:
        _check_range("max_tasks_in_flight", self.max_tasks_in_flight, 1, 1000)
        if not 0.01 <= self.max_creates_per_second <= 100:
            raise ConfigError(f"max_creates_per_second must be between 0.01 and 100, got {self.max_creates_per_second}")
        _check_range("max_queue_wait_minutes", self.max_queue_wait_minutes, 1, 14 * 24 * 60)
        _check_range("credit_wait_minutes", self.credit_wait_minutes, 0, 14 * 24 * 60)  # max_queue_wait still applies
        if self.input_mode not in INPUT_MODES:
            raise ConfigError(f"input_mode must be {' or '.join(INPUT_MODES)}, got {self.input_mode!r}")
        _check_range("input_url_ttl_minutes", self.input_url_ttl_minutes, 5, 12 * 60)

    def _check_timeouts_nest(self) -> None:
        """The job's wait outlasts its heartbeat timeout (Step Functions requires it), and the run timeout holds the
        wait, then Finalize and Record failure at their worst (faceswap.budgets): the job records its own end."""
        shortest_wait = JOB_HEARTBEAT_SECONDS // 60 + 1
        _check_range("webhook_wait_minutes", self.webhook_wait_minutes, shortest_wait, 24 * 60)
        after_wait = math.ceil(AFTER_WAIT_SECONDS / 60)
        if self.run_timeout_minutes <= self.webhook_wait_minutes + after_wait:
            raise ConfigError(
                f"run_timeout_minutes ({self.run_timeout_minutes}) must exceed webhook_wait_minutes "
                f"({self.webhook_wait_minutes}) by more than {after_wait}: Finalize and Record failure, with their "
                "retries, run after the wait")


def log_retention(days: int) -> logs.RetentionDays:
    """faceswap:log_retention_days as CloudWatch Logs takes it (a fixed set of values)."""
    if days not in _RETENTION:
        raise ValueError(f"log_retention_days must be one of {sorted(_RETENTION)}, got {days}")
    return _RETENTION[days]


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH, 60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
}


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")


def _coerce(name: str, raw: Any, kind: type) -> Any:
    if kind is bool:  # `-c key=false` arrives as the string "false"
        if isinstance(raw, bool) or str(raw).lower() in ("true", "false"):
            return raw if isinstance(raw, bool) else str(raw).lower() == "true"
        raise ConfigError(f"context {CONTEXT_PREFIX}{name} must be true or false, got {raw!r}")
    try:
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"context {CONTEXT_PREFIX}{name} must be {kind.__name__}, got {raw!r}") from exc
