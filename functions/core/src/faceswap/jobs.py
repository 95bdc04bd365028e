"""What a job is, and how an uploaded object becomes one.

Two ways in: a manifest `jobs/<name>.json` naming the video and face keys, or a video uploaded with the object
metadata `face-key`. The job id is the name, plus `--run<N>` when the user asks for a re-run with `"run": N`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faceswap import layout
from faceswap.config import PipelineSettings
from faceswap.errors import JobRejected
from faceswap.layout import MANIFEST_SUFFIX

MAX_MANIFEST_BYTES = 16 * 1024
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
FACE_KEY_METADATA = "face-key"
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v")
FACE_SUFFIXES = (".jpg", ".jpeg", ".png")


class JobManifest(BaseModel):
    """The body of jobs/<name>.json."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    video: str = Field(min_length=1, max_length=1024, description="Key of the video, under videos/")
    face: str = Field(min_length=1, max_length=1024, description="Key of the face image, under faces/")
    run: int = Field(default=1, ge=1, le=9999, description="Bump to run the same job name again")
    face_check: bool = Field(default=True, description="false: skip the face pre-check (the vendor still checks, "
                                                       "after charging the units)")


@dataclass(frozen=True)
class JobSpec:
    name: str
    video_key: str
    face_key: str
    run: int = 1
    source_key: str = ""
    face_check: bool = True  # look for a face before spending units (when the pre-check is deployed)

    @property
    def job_id(self) -> str:
        """Also the execution name: deterministic, so a repeated event cannot start a second run."""
        return layout.job_id(self.name, self.run)


def job_name_from_key(key: str) -> str:
    """Best-effort name for error reports, even when the key is not a valid job name."""
    stem = PurePosixPath(key).stem or "unnamed"
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", stem).strip("-_") or "unnamed"
    return cleaned[:64]


def job_from_manifest(key: str, body: bytes, settings: PipelineSettings) -> JobSpec:
    name = _name_from_manifest_key(key, settings.jobs_prefix)
    if len(body) > MAX_MANIFEST_BYTES:
        raise JobRejected("manifest_too_large", f"The manifest {key} is {len(body)} bytes.",
                          f"Keep manifests under {MAX_MANIFEST_BYTES} bytes: they only name two keys.")
    try:
        manifest = JobManifest.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise JobRejected("manifest_invalid", f"The manifest {key} is not valid: {_short(exc)}.",
                          'Upload JSON like {"video": "videos/clip.mp4", "face": "faces/me.jpg"}.') from exc
    return _checked(JobSpec(name, manifest.video, manifest.face, manifest.run, key, manifest.face_check), settings)


def job_from_video(key: str, metadata: dict[str, str], settings: PipelineSettings) -> JobSpec | None:
    """A video with `face-key` metadata is a job; without it, it waits for a manifest (None)."""
    face_key = metadata.get(FACE_KEY_METADATA)
    if not face_key:
        return None
    name = job_name_from_key(key)
    return _checked(JobSpec(name, key, face_key.strip(), 1, key), settings)


def _name_from_manifest_key(key: str, jobs_prefix: str) -> str:
    relative = key[len(jobs_prefix):]
    if "/" in relative or not relative.endswith(MANIFEST_SUFFIX):
        raise JobRejected("manifest_key_invalid", f"{key} is not a job manifest key.",
                          f"Upload manifests directly under {jobs_prefix} as <name>.json.")
    name = relative.removesuffix(MANIFEST_SUFFIX)
    if not NAME_PATTERN.fullmatch(name):
        raise JobRejected("job_name_invalid", f"The job name {name!r} is not allowed.",
                          "Use 1-64 letters, digits, '-' or '_', starting with a letter or digit.")
    return name


def _checked(job: JobSpec, settings: PipelineSettings) -> JobSpec:
    _require_prefix(job.video_key, settings.videos_prefix, VIDEO_SUFFIXES, "video")
    _require_prefix(job.face_key, settings.faces_prefix, FACE_SUFFIXES, "face image")
    return job


def _require_prefix(key: str, prefix: str, suffixes: tuple[str, ...], what: str) -> None:
    if not key.startswith(prefix) or ".." in key.split("/"):
        raise JobRejected("key_outside_prefix", f"The {what} key {key!r} is not under {prefix}.",
                          f"Upload the {what} under {prefix} and name that key in the job.")
    if not key.lower().endswith(suffixes):
        raise JobRejected("wrong_file_type", f"The {what} {key!r} does not end in {', '.join(suffixes)}.",
                          f"Upload the {what} as one of: {', '.join(suffixes)}.")


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:3])
    return str(exc)[:200]
