"""What the vendor gets as a job's inputs (faceswap:input_mode):

- `upload`: both files streamed from S3 through the vendor's File API (never held in memory), once per job: their
  file ids are kept on the job's record and reused by a later attempt while younger than `vendor_file_ttl_seconds`
  (the vendor does not publish how long they stay valid);
- `url`: short-lived presigned GET URLs of both objects; the vendor fetches them itself, no media byte passes
  through the function. A URL must stay reachable from the vendor's network for as long as it fetches; it is
  signed with the function's role credentials, so it never outlives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faceswap.transfer import upload_to_vendor

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_s3 import S3Client

    from faceswap.claims import Claims, InputFacts
    from faceswap.jobs import JobSpec
    from faceswap.youcam.client import YouCamClient

UPLOAD, URL = "upload", "url"
INPUT_MODES = (UPLOAD, URL)


@dataclass
class VendorInputs:
    s3: S3Client
    bucket: str
    claims: Claims
    mode: str
    url_ttl_seconds: int
    file_ttl_seconds: int
    clock: Callable[[], float]

    def for_task(self, job: JobSpec, token: str, facts: InputFacts, record: dict[str, Any],
                 client: YouCamClient) -> dict[str, str]:
        """The create-task arguments naming both inputs. `record`: the job's record as this attempt found it."""
        if self.mode == URL:
            return {"src_file_url": self._presigned(job.video_key), "ref_file_url": self._presigned(job.face_key)}
        reused = self._reusable(record)
        if reused is not None:
            return reused
        files = self._upload(job, token, facts, client)
        return {"src_file_id": files["src"], "ref_file_id": files["ref"]}

    def sent(self, record: dict[str, Any]) -> bool:
        """Nothing to send ahead of the create call: URL mode, or both files uploaded and still valid."""
        return self.mode == URL or self._reusable(record) is not None

    def send_ahead(self, job: JobSpec, token: str, facts: InputFacts, record: dict[str, Any],
                   client: YouCamClient) -> dict[str, Any]:
        """Both files to the vendor before the job takes its slot: the record as a later `for_task` must see it."""
        if self.sent(record):
            return record
        return {**record, "vendor_files": self._upload(job, token, facts, client)}

    def _upload(self, job: JobSpec, token: str, facts: InputFacts, client: YouCamClient) -> dict[str, Any]:
        src = upload_to_vendor(self.s3, self.bucket, job.video_key, facts.video_bytes, client)
        ref = upload_to_vendor(self.s3, self.bucket, job.face_key, facts.face_bytes, client)
        self.claims.record_vendor_files(job.job_id, token, src, ref)
        return {"src": src, "ref": ref, "uploaded_epoch": int(self.clock())}

    def _presigned(self, key: str) -> str:
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                              ExpiresIn=self.url_ttl_seconds)

    def _reusable(self, record: dict[str, Any]) -> dict[str, str] | None:
        files = record.get("vendor_files")
        if not isinstance(files, dict) or self.clock() - float(files["uploaded_epoch"]) > self.file_ttl_seconds:
            return None
        return {"src_file_id": str(files["src"]), "ref_file_id": str(files["ref"])}
