"""What the user sees in the bucket: results/<job>/output.mp4, status.json, error.json."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from faceswap.errors import ErrorReport
from faceswap.layout import ERROR_NAME, FAILED, STATUS_NAME, result_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

class ResultWriter:
    def __init__(self, s3: S3Client, bucket: str, results_prefix: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = results_prefix

    def key(self, job_id: str, name: str) -> str:
        return result_key(job_id, name, self._prefix)

    def write_status(self, job_id: str, record: dict[str, Any], state: str) -> None:
        status = {"job_id": job_id, "state": state, "written_at": _now(), **_public_fields(record)}
        self._put_json(self.key(job_id, STATUS_NAME), status)

    def write_error(self, job_id: str, report: ErrorReport, record: dict[str, Any] | None = None) -> None:
        body = {"job_id": job_id, "state": FAILED, "written_at": _now(), **report.to_dict(),
                **_public_fields(record or {})}
        # error.json last: whoever sees it (the CLI, a watcher) finds status.json already written.
        self._put_json(self.key(job_id, STATUS_NAME), {k: body[k] for k in ("job_id", "state", "written_at")}
                       | _public_fields(record or {}) | {"error": report.code})
        self._put_json(self.key(job_id, ERROR_NAME), body)

    def _put_json(self, key: str, body: dict[str, Any]) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=json.dumps(body, indent=2, default=str).encode(),
                            ContentType="application/json")


_PUBLIC = ("name", "run", "video_key", "face_key", "task_id", "units", "duration_seconds", "created_at",
           "queued_since", "queue_reason", "submitted_at", "finished_at", "output_key")


def _public_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Never copy tokens or internal keys into files users read."""
    return {k: _plain(record[k]) for k in _PUBLIC if k in record}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal, which JSON cannot hold."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
