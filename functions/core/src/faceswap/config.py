"""Run-time configuration: read once from the environment, never from code constants.

Secrets are not here: only the ARNs of the Secrets Manager secrets that hold them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from faceswap import layout
from faceswap.layout import Env

DEFAULT_BASE_URL = "https://yce-api-01.makeupar.com"
# The seed names a feature-specific File API path; the generic spec names /s2s/v2.0/file (unconfirmed which
# one the vendor prefers), so both are configuration.
DEFAULT_FILE_PATH = "/s2s/v2.0/file/face-swap-vid"
# The other one: on a 404 from one File API path the client tries the other, and keeps to the one that answered.
GENERIC_FILE_PATH = "/s2s/v2.0/file"
# What a QuickTime (.mov) input is declared as: the File API documents only video/mp4 (youcam/content_types.py).
DEFAULT_MOV_CONTENT_TYPE = "video/mp4"
DEFAULT_TASK_PATH = "/s2s/v2.0/task/face-swap-vid"
DEFAULT_POLLING_INTERVAL_SECONDS = 5.0
DEFAULT_CREDIT_PATH = "/s2s/v1.0/client/credit"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


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
    # Random extra sleep (0..jitter s) added to each backoff so that concurrent Lambdas do not retry in step.
    backoff_jitter_seconds: float = 0.25
    # A vendor Retry-After longer than this is cut short (a Lambda must not sleep past its own timeout).
    max_retry_after_seconds: int = 30
    # Creating a task is not idempotent: after a 5xx or a lost response the vendor may have created it
    # anyway, and a retry would create (and bill) a second task. 429 is always retried (not processed).
    retry_create_on_server_error: bool = False
    credit_path: str = DEFAULT_CREDIT_PATH
    # Size of the pieces streamed to the upload URL (the body is never held in memory as a whole).
    transfer_chunk_bytes: int = 1024 * 1024
    mov_content_type: str = DEFAULT_MOV_CONTENT_TYPE

    @classmethod
    def from_env(cls) -> VendorSettings:
        return cls(
            base_url=os.environ.get(Env.YOUCAM_BASE_URL, DEFAULT_BASE_URL).rstrip("/"),
            file_path=os.environ.get(Env.YOUCAM_FILE_PATH, DEFAULT_FILE_PATH),
            task_path=os.environ.get(Env.YOUCAM_TASK_PATH, DEFAULT_TASK_PATH),
            default_polling_interval_seconds=_env_float(
                Env.DEFAULT_POLLING_INTERVAL_SECONDS, DEFAULT_POLLING_INTERVAL_SECONDS
            ),
            polling_interval_unit=os.environ.get(Env.POLLING_INTERVAL_UNIT, "auto"),
            connect_timeout_seconds=_env_float(Env.YOUCAM_CONNECT_TIMEOUT_SECONDS, 5.0),
            read_timeout_seconds=_env_float(Env.YOUCAM_READ_TIMEOUT_SECONDS, 30.0),
            upload_timeout_seconds=_env_float(Env.YOUCAM_UPLOAD_TIMEOUT_SECONDS, 300.0),
            max_retries=_env_int(Env.YOUCAM_MAX_RETRIES, 4),
            backoff_factor_seconds=_env_float(Env.YOUCAM_BACKOFF_SECONDS, 0.5),
            backoff_jitter_seconds=_env_float(Env.YOUCAM_BACKOFF_JITTER_SECONDS, 0.25),
            max_retry_after_seconds=_env_int(Env.YOUCAM_MAX_RETRY_AFTER_SECONDS, 30),
            retry_create_on_server_error=_env_bool(Env.YOUCAM_RETRY_CREATE_ON_SERVER_ERROR, False),
            credit_path=os.environ.get(Env.YOUCAM_CREDIT_PATH, DEFAULT_CREDIT_PATH),
            transfer_chunk_bytes=_env_int(Env.YOUCAM_TRANSFER_CHUNK_BYTES, 1024 * 1024),
            mov_content_type=os.environ.get(Env.YOUCAM_MOV_CONTENT_TYPE, "").strip() or DEFAULT_MOV_CONTENT_TYPE,
        )


@dataclass(frozen=True)
class PipelineSettings:
    """Where the pipeline keeps things; set by CDK as environment variables on every function."""

    bucket: str
    jobs_table: str
    api_key_secret_arn: str
    videos_prefix: str = layout.VIDEOS_PREFIX
    faces_prefix: str = layout.FACES_PREFIX
    jobs_prefix: str = layout.JOBS_PREFIX
    results_prefix: str = layout.RESULTS_PREFIX
    state_machine_arn: str = ""
    webhook_secret_arn: str = ""
    # A claim older than this belongs to a dead attempt (the function's timeout + a minute of clock margin).
    start_timeout_seconds: int = 360
    start_queue_url: str = ""  # a job that must wait goes back to this queue (the start function's)
    input_mode: str = "upload"  # "upload": through the vendor's File API; "url": presigned GET URLs of the inputs
    input_url_ttl_seconds: int = 3600  # url mode: how long the vendor may take to fetch them
    # upload mode: a retried start reuses the vendor's file ids while they are younger than this (the File API's
    # own limit is not published; unconfirmed)
    vendor_file_ttl_seconds: int = 3600
    # The face pre-check: the detector function's name (empty: not deployed, no pre-check), how many video frames
    # it samples, and its timeout (the start function waits for it that long, plus a margin).
    face_detector_function: str = ""
    face_precheck_samples: int = 8
    face_detector_timeout_seconds: int = 60
    # Where the job events go (faceswap:event_bus_name): a bus name or ARN; "default" is the account's default bus.
    event_bus_name: str = "default"

    @classmethod
    def from_env(cls) -> PipelineSettings:
        env = os.environ
        return cls(
            bucket=env.get(Env.BUCKET_NAME, ""),
            jobs_table=env.get(Env.JOBS_TABLE, ""),
            api_key_secret_arn=env.get(Env.API_KEY_SECRET_ARN, ""),
            videos_prefix=env.get(Env.VIDEOS_PREFIX, layout.VIDEOS_PREFIX),
            faces_prefix=env.get(Env.FACES_PREFIX, layout.FACES_PREFIX),
            jobs_prefix=env.get(Env.JOBS_PREFIX, layout.JOBS_PREFIX),
            results_prefix=env.get(Env.RESULTS_PREFIX, layout.RESULTS_PREFIX),
            state_machine_arn=env.get(Env.STATE_MACHINE_ARN, ""),
            webhook_secret_arn=env.get(Env.WEBHOOK_SECRET_ARN, ""),
            start_timeout_seconds=_env_int(Env.START_TIMEOUT_SECONDS, 360),
            start_queue_url=env.get(Env.START_QUEUE_URL, ""),
            input_mode=env.get(Env.INPUT_MODE, "upload"),
            input_url_ttl_seconds=_env_int(Env.INPUT_URL_TTL_SECONDS, 3600),
            vendor_file_ttl_seconds=_env_int(Env.VENDOR_FILE_TTL_SECONDS, 3600),
            face_detector_function=env.get(Env.FACE_DETECTOR_FUNCTION, ""),
            face_precheck_samples=_env_int(Env.FACE_PRECHECK_SAMPLES, 8),
            face_detector_timeout_seconds=_env_int(Env.FACE_DETECTOR_TIMEOUT_SECONDS, 60),
            event_bus_name=env.get(Env.EVENT_BUS_NAME, "") or "default",
        )
