"""The storage layout and the names every layer shares, spelled once: infra writes them into the template, the
functions read them, the CLI and the local harness look things up by them.

It imports nothing, so infra and the CLI can use it without a handler's dependencies.
"""

from __future__ import annotations

from typing import Final

# --- the media bucket ----------------------------------------------------------------------------------------------
# Defaults of the key prefixes; a deployment may change them (faceswap:*_prefix), so read them from the settings.
VIDEOS_PREFIX: Final = "videos/"
FACES_PREFIX: Final = "faces/"
JOBS_PREFIX: Final = "jobs/"
RESULTS_PREFIX: Final = "results/"

# What a job leaves under results/<job_id>/: status.json always, then output.mp4 or error.json.
OUTPUT_NAME: Final = "output.mp4"
STATUS_NAME: Final = "status.json"
ERROR_NAME: Final = "error.json"
MANIFEST_SUFFIX: Final = ".json"  # jobs/<name>.json


def result_key(job_id: str, name: str, results_prefix: str = RESULTS_PREFIX) -> str:
    """results/<job_id>/<name>: where a job's output.mp4, status.json or error.json is."""
    return f"{results_prefix}{job_id}/{name}"


def manifest_key(name: str, jobs_prefix: str = JOBS_PREFIX) -> str:
    """jobs/<name>.json: the upload that starts a job."""
    return f"{jobs_prefix}{name}{MANIFEST_SUFFIX}"


# --- job ids --------------------------------------------------------------------------------------------------------
RUN_SUFFIX: Final = "--run"  # a re-run's job id: <name>--run<N> (the manifest's "run": N)


def job_id(name: str, run: int = 1) -> str:
    """The job id, also its execution's name: the job's name, plus --run<N> for a re-run."""
    return name if run == 1 else f"{name}{RUN_SUFFIX}{run}"


def job_name(job_id: str) -> str:
    """The name a job id was made from (its manifest is jobs/<name>.json)."""
    return job_id.split(RUN_SUFFIX)[0]


# --- poller executions -----------------------------------------------------------------------------------------------
# A job's pollers are named <job id>_<polls so far>: <job>_0 first, each hand-over after it its count. Job ids hold
# only [A-Za-z0-9_-] and the count only digits, so a name splits at its last "_" into one job and one count: no
# two pollers share a name, and names keep to the characters Step Functions' logging asks for.
POLLER_NAME_FORMAT: Final = "{}_{}"  # States.Format in the state machines, str.format here


def poller_name(job_id: str, count: int) -> str:
    return POLLER_NAME_FORMAT.format(job_id, count)


def poller_job_id(name: str) -> str | None:
    """The job a poller execution's name belongs to (None for a name no poller has)."""
    job_id, separator, count = name.rpartition("_")
    return job_id if separator and job_id and count.isdigit() else None


# --- the jobs table ------------------------------------------------------------------------------------------------
PARTITION_KEY: Final = "pk"
TTL_ATTRIBUTE: Final = "expires_at"
JOB_KEY_PREFIX: Final = "JOB#"  # one item per job: its state, keys, vendor task, timings, error
TASK_KEY_PREFIX: Final = "TASK#"  # one item per vendor task: where the callback token meets the webhook
ADMISSION_KEY: Final = "ADMISSION"  # the admission item (slots, rate, breaker, credit); ADMISSION#QUEUE beside it
REJECTED_KEY_PREFIX: Final = "REJECTED#"  # an upload rejected before it became a job: its FAILED event's outbox


def job_key(job_id: str) -> str:
    return f"{JOB_KEY_PREFIX}{job_id}"


def task_key(task_id: str) -> str:
    return f"{TASK_KEY_PREFIX}{task_id}"


def rejected_key(upload_key: str) -> str:
    return f"{REJECTED_KEY_PREFIX}{upload_key}"


# --- job states: the JOB# item's `state`, and `state` in status.json and error.json ---------------------------------
QUEUED: Final = "QUEUED"  # validated, waiting in the start queue for admission (a slot, a create, credit)
STARTING: Final = "STARTING"  # claimed by the start function; the vendor task does not exist yet
SUBMITTED: Final = "SUBMITTED"  # the vendor task exists; the job's execution waits for it
SUCCEEDED: Final = "SUCCEEDED"
FAILED: Final = "FAILED"
FINAL_STATES: Final = (SUCCEEDED, FAILED)

# --- job events: what the pipeline puts on EventBridge (docs/events.md) ---------------------------------------------
EVENT_SOURCE: Final = "faceswap"
EVENT_DETAIL_TYPE: Final = "FaceSwap Job State Change"
STARTED: Final = "STARTED"  # an event's state for a job whose record became SUBMITTED (the vendor task exists)
EVENT_STATES: Final = (QUEUED, STARTED, SUCCEEDED, FAILED)

# The functions' custom metrics (Powertools EMF; CloudWatch adds the dimension "service" = the function's handler).
METRICS_NAMESPACE: Final = "FaceSwap"


class Env:
    """Environment variable names: infra sets them on the functions, faceswap.config (and the handlers) read them."""

    # Where things are (set on every function).
    BUCKET_NAME: Final = "BUCKET_NAME"
    JOBS_TABLE: Final = "JOBS_TABLE"
    API_KEY_SECRET_ARN: Final = "API_KEY_SECRET_ARN"
    VIDEOS_PREFIX: Final = "VIDEOS_PREFIX"
    FACES_PREFIX: Final = "FACES_PREFIX"
    JOBS_PREFIX: Final = "JOBS_PREFIX"
    RESULTS_PREFIX: Final = "RESULTS_PREFIX"
    # One function's own.
    STATE_MACHINE_ARN: Final = "STATE_MACHINE_ARN"  # the start function
    START_TIMEOUT_SECONDS: Final = "START_TIMEOUT_SECONDS"  # the start function: a claim's lease
    START_QUEUE_URL: Final = "START_QUEUE_URL"  # the start function: where a waiting job goes back to
    INPUT_MODE: Final = "INPUT_MODE"  # the start function: "upload" (File API) or "url" (presigned GET URLs)
    INPUT_URL_TTL_SECONDS: Final = "INPUT_URL_TTL_SECONDS"  # the start function, url mode: the URLs' life
    VENDOR_FILE_TTL_SECONDS: Final = "VENDOR_FILE_TTL_SECONDS"  # upload mode: how long vendor file ids are reused
    WEBHOOK_SECRET_ARN: Final = "WEBHOOK_SECRET_ARN"  # the webhook
    FACE_DETECTOR_FUNCTION: Final = "FACE_DETECTOR_FUNCTION"  # the start function, when the pre-check is deployed
    FACE_PRECHECK_SAMPLES: Final = "FACE_PRECHECK_SAMPLES"
    FACE_DETECTOR_TIMEOUT_SECONDS: Final = "FACE_DETECTOR_TIMEOUT_SECONDS"
    POLLER_HAND_OVER_SECONDS: Final = "POLLER_HAND_OVER_SECONDS"  # the poll (tests shorten it)
    OPENBLAS_NUM_THREADS: Final = "OPENBLAS_NUM_THREADS"  # the face detector (numpy's BLAS threads)
    EVENT_BUS_NAME: Final = "EVENT_BUS_NAME"  # the job events' publisher: the bus's name or ARN
    # The vendor API (faceswap.config.VendorSettings).
    YOUCAM_BASE_URL: Final = "YOUCAM_BASE_URL"
    YOUCAM_FILE_PATH: Final = "YOUCAM_FILE_PATH"
    YOUCAM_TASK_PATH: Final = "YOUCAM_TASK_PATH"
    YOUCAM_CREDIT_PATH: Final = "YOUCAM_CREDIT_PATH"
    DEFAULT_POLLING_INTERVAL_SECONDS: Final = "DEFAULT_POLLING_INTERVAL_SECONDS"
    POLLING_INTERVAL_UNIT: Final = "POLLING_INTERVAL_UNIT"
    YOUCAM_CONNECT_TIMEOUT_SECONDS: Final = "YOUCAM_CONNECT_TIMEOUT_SECONDS"
    YOUCAM_READ_TIMEOUT_SECONDS: Final = "YOUCAM_READ_TIMEOUT_SECONDS"
    YOUCAM_UPLOAD_TIMEOUT_SECONDS: Final = "YOUCAM_UPLOAD_TIMEOUT_SECONDS"
    YOUCAM_MAX_RETRIES: Final = "YOUCAM_MAX_RETRIES"
    YOUCAM_BACKOFF_SECONDS: Final = "YOUCAM_BACKOFF_SECONDS"
    YOUCAM_BACKOFF_JITTER_SECONDS: Final = "YOUCAM_BACKOFF_JITTER_SECONDS"
    YOUCAM_MAX_RETRY_AFTER_SECONDS: Final = "YOUCAM_MAX_RETRY_AFTER_SECONDS"
    YOUCAM_RETRY_CREATE_ON_SERVER_ERROR: Final = "YOUCAM_RETRY_CREATE_ON_SERVER_ERROR"
    YOUCAM_TRANSFER_CHUNK_BYTES: Final = "YOUCAM_TRANSFER_CHUNK_BYTES"
    YOUCAM_MOV_CONTENT_TYPE: Final = "YOUCAM_MOV_CONTENT_TYPE"
    # Admission (faceswap.admission.settings): the start function, and the functions that release slots.
    MAX_TASKS_IN_FLIGHT: Final = "MAX_TASKS_IN_FLIGHT"
    MAX_CREATES_PER_SECOND: Final = "MAX_CREATES_PER_SECOND"
    CREATE_BURST: Final = "CREATE_BURST"
    MAX_QUEUE_WAIT_SECONDS: Final = "MAX_QUEUE_WAIT_SECONDS"
    CREDIT_WAIT_SECONDS: Final = "CREDIT_WAIT_SECONDS"
    CREDIT_CACHE_SECONDS: Final = "CREDIT_CACHE_SECONDS"
    ADMISSION_START_LEASE_SECONDS: Final = "ADMISSION_START_LEASE_SECONDS"
    ADMISSION_RUN_LEASE_SECONDS: Final = "ADMISSION_RUN_LEASE_SECONDS"
    BREAKER_THRESHOLD: Final = "BREAKER_THRESHOLD"
    BREAKER_BACKOFF_SECONDS: Final = "BREAKER_BACKOFF_SECONDS"
    BREAKER_MAX_BACKOFF_SECONDS: Final = "BREAKER_MAX_BACKOFF_SECONDS"
    MIN_RECHECK_SECONDS: Final = "MIN_RECHECK_SECONDS"
    MAX_RECHECK_SECONDS: Final = "MAX_RECHECK_SECONDS"
    ADMISSION_INITIAL_HOLD_SECONDS: Final = "ADMISSION_INITIAL_HOLD_SECONDS"
    # Powertools' own.
    POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
    POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"
    POWERTOOLS_PARAMETERS_MAX_AGE: Final = "POWERTOOLS_PARAMETERS_MAX_AGE"
