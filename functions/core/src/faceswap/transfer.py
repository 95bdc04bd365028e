"""Move media without holding it: S3 → vendor upload URL, and vendor result URL → S3."""

from __future__ import annotations

from typing import TYPE_CHECKING

from boto3.s3.transfer import TransferConfig

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from faceswap.youcam.client import YouCamClient

# Multipart parts of 8 MiB, two uploading while the next ones are read: the download and the uploads overlap, and
# memory stays at a few parts (~44 MiB measured, bench section 2) whatever the video size: boto3 would read up to
# 10 parts ahead by default.
RESULT_TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024,
                                 max_concurrency=2, use_threads=True)
RESULT_TRANSFER.max_in_memory_upload_chunks = 2
CONTENT_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
                 ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def content_type_for(key: str) -> str:
    suffix = key[key.rfind("."):].lower() if "." in key else ""
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def upload_to_vendor(s3: S3Client, bucket: str, key: str, size: int, client: YouCamClient) -> str:
    """Stream an S3 object through the vendor's File API; returns the vendor file id."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        return client.upload(body, size=size, content_type=content_type_for(key),
                             file_name=key.rsplit("/", 1)[-1])
    finally:
        body.close()


def copy_result_to_s3(client: YouCamClient, url: str, s3: S3Client, bucket: str, key: str) -> None:
    """The result URL lives two hours: copy it into the bucket as soon as the task succeeds."""
    with client.open_result(url) as result:
        s3.upload_fileobj(result.as_binary_io(), bucket, key, ExtraArgs={"ContentType": "video/mp4"},
                          Config=RESULT_TRANSFER)
