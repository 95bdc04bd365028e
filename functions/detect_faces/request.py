"""The detector function's input: which objects to look at, and how many video frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_SAMPLES = 64  # the pipeline's setting is validated to 1..32 at synth; a bound here keeps a bad call cheap


@dataclass(frozen=True)
class DetectionRequest:
    bucket: str
    video_key: str
    face_key: str
    samples: int
    job_id: str = ""  # for the logs only: one Logs Insights filter follows a job across functions

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> DetectionRequest:
        """Raises ValueError naming the field, which the caller sees as the function error."""
        strings = {}
        for name in ("bucket", "video_key", "face_key"):
            value = event.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
            strings[name] = value
        samples = event.get("samples")
        if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= MAX_SAMPLES:
            raise ValueError(f"samples must be an integer from 1 to {MAX_SAMPLES}, got {samples!r}")
        job_id = event.get("job_id", "")
        if not isinstance(job_id, str):
            raise ValueError(f"job_id must be a string, got {job_id!r}")
        return cls(samples=samples, job_id=job_id, **strings)
