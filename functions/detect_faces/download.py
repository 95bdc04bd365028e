"""Objects from S3 for the detector: the video streamed to a local file piece by piece, the photo in memory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK_BYTES = 1024 * 1024  # never more than this of the video in memory
MAX_PHOTO_BYTES = 10_000_000  # the start function has checked the photo's size already; a second guard here


def download_to(s3: S3Client, bucket: str, key: str, path: Path) -> int:
    """Stream the object into `path`; returns its size in bytes."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    written = 0
    with path.open("wb") as out:
        for chunk in body.iter_chunks(CHUNK_BYTES):
            out.write(chunk)
            written += len(chunk)
    return written


def read_photo(s3: S3Client, bucket: str, key: str) -> bytes:
    """The photo's bytes (OpenCV decodes images from memory); refuses anything over the vendor's 10 MB."""
    response = s3.get_object(Bucket=bucket, Key=key)
    if response["ContentLength"] > MAX_PHOTO_BYTES:
        raise ValueError(f"{key} is {response['ContentLength']} bytes, over {MAX_PHOTO_BYTES}")
    return bytes(response["Body"].read())
