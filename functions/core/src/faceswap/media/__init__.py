"""Validate the user's video and face image against the vendor's limits before any vendor unit is spent.

Only container headers are read, through ranged reads (S3RangeReader in the Lambda), never the whole file:

    reader = S3RangeReader(s3, bucket, key, size=event_size)
    info = validate_video(reader, MediaLimits())  # raises MediaInvalid(code, message, what_to_fix)
"""

from __future__ import annotations

from .errors import ERROR_CODES, MediaInvalid
from .image import ImageInfo, probe_image
from .limits import (
    MediaLimits,
    billable_units,
    check_image,
    check_video,
    dst_duration,
    find_video_problems,
)
from .mp4 import MAX_MOOV_BYTES, VideoInfo, probe_mp4
from .ranged import BytesRangeReader, FileRangeReader, RangeReader, S3RangeReader


def validate_video(reader: RangeReader, limits: MediaLimits | None = None,
                   max_moov_bytes: int = MAX_MOOV_BYTES) -> VideoInfo:
    """Probe the video and check it against `limits` (the vendor's by default); raises MediaInvalid."""
    info = probe_mp4(reader, max_moov_bytes=max_moov_bytes)
    check_video(info, limits or MediaLimits())
    return info


def validate_image(reader: RangeReader, limits: MediaLimits | None = None) -> ImageInfo:
    """Probe the face image and check it against `limits`; raises MediaInvalid."""
    info = probe_image(reader)
    check_image(info, limits or MediaLimits())
    return info


__all__ = [
    "ERROR_CODES",
    "BytesRangeReader",
    "FileRangeReader",
    "ImageInfo",
    "MediaInvalid",
    "MediaLimits",
    "RangeReader",
    "S3RangeReader",
    "VideoInfo",
    "billable_units",
    "check_image",
    "check_video",
    "dst_duration",
    "find_video_problems",
    "probe_image",
    "probe_mp4",
    "validate_image",
    "validate_video",
]
