"""Run-time configuration: read once from the environment, never from code constants.

Secrets are not here: only the ARNs of the Secrets Manager secrets that hold them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_BASE_URL = "https://yce-api-01.makeupar.com"
# The seed names a feature-specific File API path; the generic spec names /s2s/v2.0/file (unconfirmed which
# one the vendor prefers), so both are configuration.
DEFAULT_FILE_PATH = "/s2s/v2.0/file/face-swap-vid"
DEFAULT_TASK_PATH = "/s2s/v2.0/task/face-swap-vid"
DEFAULT_POLLING_INTERVAL_SECONDS = 5.0


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class VendorSettings:
    """How to reach the YouCam API. Every field can be overridden by an environment variable."""

    base_url: str = DEFAULT_BASE_URL
    file_path: str = DEFAULT_FILE_PATH
    task_path: str = DEFAULT_TASK_PATH
    default_polling_interval_seconds: float = DEFAULT_POLLING_INTERVAL_SECONDS
    # "auto": values above 300 are taken as milliseconds (the unit of polling_interval is unconfirmed).
    polling_interval_unit: str = "auto"
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    upload_timeout_seconds: float = 300.0
    max_retries: int = 4
    backoff_factor_seconds: float = 0.5
    retry_statuses: tuple[int, ...] = field(default=(429, 500, 502, 503, 504))

    @classmethod
    def from_env(cls) -> VendorSettings:
        return cls(
            base_url=os.environ.get("YOUCAM_BASE_URL", DEFAULT_BASE_URL).rstrip("/"),
            file_path=os.environ.get("YOUCAM_FILE_PATH", DEFAULT_FILE_PATH),
            task_path=os.environ.get("YOUCAM_TASK_PATH", DEFAULT_TASK_PATH),
            default_polling_interval_seconds=_env_float(
                "DEFAULT_POLLING_INTERVAL_SECONDS", DEFAULT_POLLING_INTERVAL_SECONDS
            ),
            polling_interval_unit=os.environ.get("POLLING_INTERVAL_UNIT", "auto"),
            connect_timeout_seconds=_env_float("YOUCAM_CONNECT_TIMEOUT_SECONDS", 5.0),
            read_timeout_seconds=_env_float("YOUCAM_READ_TIMEOUT_SECONDS", 30.0),
            upload_timeout_seconds=_env_float("YOUCAM_UPLOAD_TIMEOUT_SECONDS", 300.0),
            max_retries=_env_int("YOUCAM_MAX_RETRIES", 4),
            backoff_factor_seconds=_env_float("YOUCAM_BACKOFF_SECONDS", 0.5),
        )
