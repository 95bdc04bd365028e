"""From an uploaded object to a checked job, before anything is spent: which job an upload starts (a manifest, or
a video with `face-key` metadata), and whether YouCam would take its files (header checks by ranged reads, then
the face pre-check). Every "no" is a JobRejected/MediaInvalid with a code and what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from faceswap.claims import InputFacts
from faceswap.errors import JobRejected
from faceswap.jobs import JobSpec, job_from_manifest, job_from_video
from faceswap.media import MediaLimits, S3RangeReader, validate_image, validate_video

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from faceswap.config import PipelineSettings
    from faceswap.faces import FacePrecheck

MANIFEST_READ_BYTES = 64 * 1024  # enough to tell a manifest that is too large
# Without s3:ListBucket (the start function may only read its prefixes), S3 answers a missing key 403, not 404.
MISSING = ("404", "NoSuchKey", "NotFound", "403", "AccessDenied")


@dataclass
class Intake:
    s3: S3Client
    settings: PipelineSettings
    limits: MediaLimits
    faces: FacePrecheck | None = None  # the face pre-check; None: not deployed

    def job_for(self, bucket: str, key: str) -> JobSpec | None:
        """The job an upload starts; None for a video that waits for its manifest."""
        s = self.settings
        if key.startswith(s.jobs_prefix):
            return job_from_manifest(key, self._manifest_head(bucket, key), s)
        if key.startswith(s.videos_prefix):
            with missing_file_is_rejected(key, "video"):
                metadata = self.s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
            return job_from_video(key, metadata, s)
        raise JobRejected("key_outside_prefix", f"{key} is not a job upload.",
                          f"Start jobs with a manifest under {s.jobs_prefix} or a video under {s.videos_prefix}.")

    def check(self, bucket: str, job: JobSpec) -> InputFacts:
        """The free checks, in order of cost: the video's and the photo's headers, then the face pre-check."""
        with missing_file_is_rejected(job.video_key, "video"):
            video = validate_video(S3RangeReader(self.s3, bucket, job.video_key), self.limits)
        with missing_file_is_rejected(job.face_key, "face image"):
            face = validate_image(S3RangeReader(self.s3, bucket, job.face_key), self.limits)
        if self.faces is not None:
            if job.face_check:
                self.faces.require_faces(bucket, job.video_key, job.face_key, job.job_id)
            else:
                self.faces.skip()
        return InputFacts(video.size_bytes, face.size_bytes, video.duration_seconds)

    def _manifest_head(self, bucket: str, key: str) -> bytes:
        try:
            with missing_file_is_rejected(key, "manifest"):
                body = self.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MANIFEST_READ_BYTES - 1}")["Body"]
                return bytes(body.read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # S3's 416 for any range of 0 bytes
                return b""
            raise


@contextmanager
def missing_file_is_rejected(key: str, what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING:
            raise JobRejected("missing_file", f"The {what} {key} does not exist in the bucket (or cannot be read).",
                              f"Upload the {what} first, then the manifest that names it.") from exc
        raise
