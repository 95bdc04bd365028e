"""The one error the media checks raise: what is wrong, measured against what limit, and how to fix it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

# Stable codes: callers (error.json, alarms, the UI) switch on these, so never rename one.
EMPTY_FILE = "empty_file"
UNSUPPORTED_CONTAINER = "unsupported_container"
FRAGMENTED_VIDEO = "fragmented_video"
VIDEO_TRUNCATED = "video_truncated"
VIDEO_CORRUPT = "video_corrupt"
VIDEO_HEADER_TOO_LARGE = "video_header_too_large"
NO_VIDEO_TRACK = "no_video_track"
UNSUPPORTED_CODEC = "unsupported_codec"
UNSUPPORTED_AUDIO_CODEC = "unsupported_audio_codec"
VIDEO_TOO_LARGE = "video_too_large"
VIDEO_TOO_LONG = "video_too_long"
VIDEO_RESOLUTION_TOO_HIGH = "video_resolution_too_high"
VIDEO_FPS_TOO_HIGH = "video_fps_too_high"
UNSUPPORTED_IMAGE_TYPE = "unsupported_image_type"
IMAGE_TOO_LARGE = "image_too_large"
IMAGE_CORRUPT = "image_corrupt"

ERROR_CODES = frozenset({
    EMPTY_FILE, UNSUPPORTED_CONTAINER, FRAGMENTED_VIDEO, VIDEO_TRUNCATED, VIDEO_CORRUPT,
    VIDEO_HEADER_TOO_LARGE, NO_VIDEO_TRACK, UNSUPPORTED_CODEC, UNSUPPORTED_AUDIO_CODEC, VIDEO_TOO_LARGE,
    VIDEO_TOO_LONG, VIDEO_RESOLUTION_TOO_HIGH, VIDEO_FPS_TOO_HIGH, UNSUPPORTED_IMAGE_TYPE, IMAGE_TOO_LARGE,
    IMAGE_CORRUPT,
})


class MediaInvalid(Exception):
    """The user's file cannot be sent to the vendor; `str(exc)` is the full sentence to show them."""

    def __init__(self, code: str, message: str, what_to_fix: str, details: Mapping[str, Any] | None = None):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown media error code {code!r}")
        self.code = code
        self.message = message
        self.what_to_fix = what_to_fix
        self.details: Mapping[str, Any] = MappingProxyType(dict(details or {}))
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.what_to_fix}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready shape for error.json and the job record."""
        return {"code": self.code, "message": self.message, "what_to_fix": self.what_to_fix,
                "details": dict(self.details)}

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the fields across pickling (process pools), which Exception's default would lose.
        return (type(self), (self.code, self.message, self.what_to_fix, dict(self.details)))

    def __repr__(self) -> str:
        return f"MediaInvalid({self.code!r}, {self.message!r})"
