"""The execution input contract between the start function and the state machine."""

from __future__ import annotations

import json
import math
import os

from faceswap.config import DEFAULT_POLLING_INTERVAL_SECONDS
from faceswap.layout import Env

# The poller is an Express workflow, which runs at most 5 minutes: one Wait must leave room for a check after it.
MAX_WAIT_SECONDS = 240


def wait_seconds(interval: float | None) -> int:
    """Wait states take whole seconds; fall back to the configured default when the API gives none."""
    default = float(os.environ.get(Env.DEFAULT_POLLING_INTERVAL_SECONDS) or DEFAULT_POLLING_INTERVAL_SECONDS)
    return min(MAX_WAIT_SECONDS, max(1, math.ceil(interval if interval and interval > 0 else default)))


def execution_input(job_id: str, task_id: str, interval: float | None) -> str:
    return json.dumps({"job_id": job_id, "task_id": task_id,
                       "poll": {"interval_seconds": wait_seconds(interval), "count": 0}})
