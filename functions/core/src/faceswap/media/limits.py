"""The vendor's input limits, checked against a probed video or image, with messages that say what to fix."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields

from .codec_names import display_name
from .errors import (
    IMAGE_TOO_LARGE,
    UNSUPPORTED_AUDIO_CODEC,
    UNSUPPORTED_CODEC,
    UNSUPPORTED_CONTAINER,
    UNSUPPORTED_IMAGE_TYPE,
    VIDEO_FPS_TOO_HIGH,
    VIDEO_RESOLUTION_TOO_HIGH,
    VIDEO_TOO_LARGE,
    VIDEO_TOO_LONG,
    MediaInvalid,
)
from .image import ImageInfo
from .mp4 import VideoInfo

MB = 1_000_000  # the vendor writes "100 MB"; decimal megabytes are the stricter reading, so never over-accept
_ROUNDING_SLACK = 1e-6  # 30.000000001 s of float noise must not become a 31 s billed duration


@dataclass(frozen=True)
class MediaLimits:
    """YouCam face-swap input limits (from the vendor documentation). Override any field, or use from_env()."""

    max_video_bytes: int = 100 * MB
    max_video_seconds: float = 30.0
    max_long_side: int = 3840  # 4K UHD, in either orientation
    max_short_side: int = 2160
    max_fps: float = 30.0
    fps_tolerance: float = 0.05  # an average over variable frame durations can read 30.01 for a 30 fps clip
    video_containers: frozenset[str] = frozenset({"mp4", "mov"})
    video_codecs: frozenset[str] = frozenset({"h264", "mpeg4"})  # "MPEG-4 / MPEG-4 AVC"; HEVC is not listed
    audio_codecs: frozenset[str] = frozenset({"aac", "amr", "amr-wb", "mp3"})
    max_image_bytes: int = 10 * MB
    image_formats: frozenset[str] = frozenset({"jpeg", "png"})

    @classmethod
    def from_env(cls, prefix: str = "MEDIA_") -> MediaLimits:
        """Numeric limits from e.g. MEDIA_MAX_VIDEO_SECONDS=20; unset or empty variables keep the default."""
        overrides: dict[str, float | int] = {}
        for spec in fields(cls):
            raw = os.environ.get(prefix + spec.name.upper(), "")
            if raw and spec.type in ("int", "float"):
                overrides[spec.name] = int(raw) if spec.type == "int" else float(raw)
        return cls(**overrides)  # type: ignore[arg-type]


def find_video_problems(info: VideoInfo, limits: MediaLimits) -> list[MediaInvalid]:
    """Every limit the video breaks, most fundamental first (an empty list means it is acceptable)."""
    checks = (_container, _video_codec, _audio_codec, _video_size, _duration, _resolution, _fps)
    return [problem for check in checks if (problem := check(info, limits)) is not None]


def check_video(info: VideoInfo, limits: MediaLimits) -> None:
    problems = find_video_problems(info, limits)
    if problems:
        raise problems[0]


def check_image(info: ImageInfo, limits: MediaLimits) -> None:
    if info.format not in limits.image_formats:
        raise MediaInvalid(UNSUPPORTED_IMAGE_TYPE,
                           f"The face image is a {info.format.upper()} image; YouCam accepts "
                           f"{_either(sorted(f.upper() for f in limits.image_formats))} images only.",
                           "Save the photo as JPEG or PNG and upload it again.", {"format": info.format})
    if info.size_bytes > limits.max_image_bytes:
        raise MediaInvalid(
            IMAGE_TOO_LARGE,
            f"The face image is {_over(info.size_bytes / MB, limits.max_image_bytes / MB, 1)} MB; YouCam "
            f"accepts at most {limits.max_image_bytes / MB:g} MB.",
            f"Save it smaller (lower resolution or stronger JPEG compression, under "
            f"{limits.max_image_bytes / MB:g} MB) and upload it again.",
            {"measured": info.size_bytes, "limit": limits.max_image_bytes},
        )


def billable_units(duration_seconds: float, seconds_per_unit: float = 5.0) -> int:
    """Vendor units a video of this length costs: one per started 5 s."""
    if duration_seconds <= 0:
        raise ValueError(f"duration must be positive, got {duration_seconds}")
    return max(1, math.ceil(duration_seconds / seconds_per_unit - _ROUNDING_SLACK))


def dst_duration(duration_seconds: float) -> int:
    """The vendor's required integer `dst_duration`: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(duration_seconds - _ROUNDING_SLACK))


def _container(info: VideoInfo, limits: MediaLimits) -> MediaInvalid | None:
    if info.container in limits.video_containers:
        return None
    allowed = _either(sorted(c.upper() for c in limits.video_containers))
    return MediaInvalid(
        UNSUPPORTED_CONTAINER,
        f"The video is a {info.container.upper()} file; YouCam accepts {allowed} only.",
        "Convert it to MP4 with H.264 video and upload it again.",
        {"container": info.container},
    )


def _video_codec(info: VideoInfo, limits: MediaLimits) -> MediaInvalid | None:
    if info.video_codec in limits.video_codecs:
        return None
    fix = "Re-encode it as H.264 and upload it again."
    if info.video_codec == "hevc":
        fix = ("Re-encode it as H.264 (on an iPhone, choose Settings > Camera > Formats > Most Compatible "
               "before recording) and upload it again.")
    allowed = _either([display_name(c) for c in sorted(limits.video_codecs)])
    return MediaInvalid(
        UNSUPPORTED_CODEC,
        f"The video is encoded with {display_name(info.video_codec)}; YouCam accepts {allowed} video only.",
        fix,
        {"codec": info.video_codec},
    )


def _audio_codec(info: VideoInfo, limits: MediaLimits) -> MediaInvalid | None:
    if info.audio_codec is None or info.audio_codec in limits.audio_codecs:
        return None
    allowed = _either([display_name(c) for c in sorted(limits.audio_codecs)])
    return MediaInvalid(
        UNSUPPORTED_AUDIO_CODEC,
        f"The video's sound is encoded with {display_name(info.audio_codec)}; YouCam accepts {allowed} only.",
        "Re-encode the sound as AAC, or remove it, and upload the video again.",
        {"codec": info.audio_codec},
    )


def _video_size(info: VideoInfo, limits: MediaLimits) -> MediaInvalid | None:
    if info.size_bytes <= limits.max_video_bytes:
        return None
    limit_mb = limits.max_video_bytes / MB
    return MediaInvalid(
        VIDEO_TOO_LARGE,
        f"The video is {_over(info.size_bytes / MB, limit_mb, 1)} MB; YouCam accepts at most "
        f"{limit_mb:g} MB.",
        "Trim it, or export it at a lower resolution or bitrate, and upload it again.",
        {"measured": info.size_bytes, "limit": limits.max_video_bytes},
    )


def _duration(info: VideoInfo, limits: MediaLimits) -> MediaInvalid | None:
    limit = limits.max_video_seconds
    if info.duration_seconds <= limit:
        return None
    return MediaInvalid(
        VIDEO_TOO_LONG,
        f"The video is {_over(info.duration_seconds, limit, 1)} s long; YouCam accepts at most {limit:g} s.",
        f"Trim it to {limit:g} s or less and upload it again.",
        {"measured": info.duration_seconds, "limit": limit},
    )


def _resolution(info: VideoInfo, limits: MediaLimits) -> MediaInvalid | None:
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side <= limits.max_long_side and short_side <= limits.max_short_side:
        return None
    box = f"{limits.max_long_side}x{limits.max_short_side}"
    return MediaInvalid(
        VIDEO_RESOLUTION_TOO_HIGH,
        f"The video is {info.width}x{info.height}; YouCam accepts at most {box} (4K UHD, landscape or "
        "portrait).",
        f"Scale it down to fit within {box} and upload it again.",
        {"width": info.width, "height": info.height, "limit": box},
    )


def _fps(info: VideoInfo, limits: MediaLimits) -> MediaInvalid | None:
    if info.fps <= limits.max_fps + limits.fps_tolerance:
        return None
    return MediaInvalid(
        VIDEO_FPS_TOO_HIGH,
        f"The video runs at {_over(info.fps, limits.max_fps, 2)} frames per second; YouCam accepts at most "
        f"{limits.max_fps:g}.",
        f"Export it again at {limits.max_fps:g} fps or less and upload it again.",
        {"measured": info.fps, "limit": limits.max_fps},
    )


def _over(value: float, limit: float, decimals: int) -> str:
    """`value` with enough decimals that it visibly exceeds `limit` (never "30.0 s" against a 30 s limit)."""
    for places in range(decimals, 7):
        text = f"{value:.{places}f}"
        if float(text) > limit:
            return text
    return repr(value)


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
