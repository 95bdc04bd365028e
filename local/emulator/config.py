"""Configuration of the local YouCam emulator: credentials, timings and the vendor's documented limits."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

# A fixed, obviously-fake Standard Webhooks secret so tests and the demo agree on it without configuration.
DEFAULT_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"youcam-emulator-test-secret-0001").decode()

FILE_PATHS = ("/s2s/v2.0/file/face-swap-vid", "/s2s/v2.0/file")
TASK_PATH = "/s2s/v2.0/task/face-swap-vid"
CREDIT_PATH = "/s2s/v1.0/client/credit"
FEATURE_COST_PATH = "/s2s/v2.0/credit/feature-cost"

VIDEO_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime"})
IMAGE_CONTENT_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png"})

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Input limits from the vendor's File API and feature docs (youcam-api.md, section 1 and 2)."""

    max_video_bytes: int = 100 * MIB
    max_image_bytes: int = 10 * MIB
    max_video_seconds: float = 30.0
    max_fps: float = 30.0
    # "4K": the long side may be up to DCI 4K, the short side up to 2160.
    max_long_side: int = 4096
    max_short_side: int = 2160
    output_long_side: int = 1280
    seconds_per_unit: int = 5


@dataclass
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour apart from the fault switches."""

    api_key: str = "emulator-key"
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    # The vendor signs with one secret; extra secrets add more `v1,` signatures (receiver-side rotation tests).
    extra_webhook_secrets: list[str] = field(default_factory=list)
    webhook_urls: list[str] = field(default_factory=list)
    credit_units: float = 1000
    # When set, reported as data.polling_interval (seconds) in the create and status responses.
    polling_interval_seconds: float | None = None
    result_url_ttl_seconds: float = 7200.0
    upload_url_ttl_seconds: float = 3600.0
    # A running task not polled for this long expires (later GETs answer InvalidTaskId).
    unpolled_expiry_seconds: float = 600.0
    task_id_ttl_seconds: float = 24 * 3600.0
    # A task stays `running` at least this long, however fast the processing is.
    min_processing_seconds: float = 0.0
    seed: int = 0
    storage_dir: Path | None = None
    webhook_timeout_seconds: float = 5.0
    worker_threads: int = 2
    # The vendor's doc shows the upload Content-Length header both as a string and as a number (unconfirmed).
    content_length_header_as_int: bool = False
    # Run the face detector on every Nth frame and interpolate the boxes in between.
    detect_every_frames: int = 5
    limits: Limits = field(default_factory=Limits)

    def webhook_secrets(self) -> list[str]:
        return [self.webhook_secret, *self.extra_webhook_secrets]
