"""User configuration: CDK context (cdk.json or `-c key=value`), validated at synth time."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

from faceswap import layout
from faceswap.budgets import AFTER_WAIT_SECONDS, JOB_HEARTBEAT_SECONDS, MAX_WAIT_SECONDS

CONTEXT_PREFIX = "faceswap:"
ARCHITECTURES = ("arm64", "x86_64")  # Lambda's names
MAX_POLLS = 10_000  # also what keeps a poller's name (<job>_<count>) within 80 characters


class ConfigError(ValueError):
    """A context value that cannot work; raised at synth, before anything is deployed."""


@dataclass(frozen=True)
class PipelineConfig:
    """Every knob a user can turn, with the default documented in the README's configuration table."""

    vendor_base_url: str = "https://yce-api-01.makeupar.com"
    vendor_file_path: str = "/s2s/v2.0/file/face-swap-vid"
    polling_interval_unit: str = "auto"
    retry_create_on_server_error: bool = False
    default_polling_interval_seconds: int = 5
    max_polls: int = 720
    run_timeout_minutes: int = 120
    webhook_wait_minutes: int = 90
    videos_prefix: str = layout.VIDEOS_PREFIX
    faces_prefix: str = layout.FACES_PREFIX
    jobs_prefix: str = layout.JOBS_PREFIX
    results_prefix: str = layout.RESULTS_PREFIX
    results_retention_days: int = 30
    inputs_retention_days: int = 7
    alarm_email: str = ""
    webhook_rate_limit_rps: int = 50
    webhook_burst_limit: int = 100
    log_retention_days: int = 30
    face_precheck: bool = True
    face_precheck_samples: int = 8
    architecture: str = "arm64"  # the functions' CPU: arm64 (Graviton, ~20 % cheaper per GB-second) or x86_64

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
        prefixes = [self.videos_prefix, self.faces_prefix, self.jobs_prefix, self.results_prefix]
        for prefix in prefixes:
            if not re.fullmatch(r"[A-Za-z0-9_\-]+/", prefix):
                raise ConfigError(f"bucket prefixes must look like 'name/', got {prefix!r}")
        if len(set(prefixes)) != len(prefixes):
            raise ConfigError("videos, faces, jobs and results prefixes must all differ")
        if self.alarm_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email):
            raise ConfigError(f"alarm_email is not an e-mail address: {self.alarm_email!r}")


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


def _check_range(name: str, value: int, low: int, high: int) -> None:
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
