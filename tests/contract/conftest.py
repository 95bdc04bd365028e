"""Fixtures for the YouCam client contract tests: a local vendor emulator over real HTTP on 127.0.0.1, small
generated media (from the session's `media`), and client settings with tiny back-offs so that retries cost
milliseconds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from faceswap.config import VendorSettings
from faceswap.youcam import TaskStatus, YouCamClient
from local.emulator import Emulator, EmulatorConfig
from local.eventually import eventually
from tests.media import Media

API_KEY = "contract-test-key"
MAX_RETRIES = 3


@dataclass(frozen=True)
class Inputs:
    """A task's inputs for the client: a short video (and its length) and a face photo, in one folder."""

    video: Path
    image: Path
    seconds: int


@pytest.fixture(scope="session")
def inputs(media: Media) -> Inputs:
    return Inputs(video=media.video(seconds=2, fps=15, size=(320, 180)), image=media.image(suffix=".jpg"), seconds=2)


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(api_key=API_KEY, seed=11)) as emulator:
        yield emulator


@pytest.fixture
def emulator(shared_emulator: Emulator) -> Emulator:
    """The session's emulator, wiped clean: no files, tasks, counters or faults from earlier tests."""
    shared_emulator.reset()
    return shared_emulator


def fast_settings(base_url: str, **overrides: Any) -> VendorSettings:
    values: dict[str, Any] = {
        "base_url": base_url,
        "max_retries": MAX_RETRIES,
        "backoff_factor_seconds": 0.01,
        "backoff_jitter_seconds": 0.01,
        # 0 ignores the emulator's Retry-After (1 s) and uses the tiny back-off; one test re-enables it.
        "max_retry_after_seconds": 0,
        "connect_timeout_seconds": 2.0,
        "read_timeout_seconds": 10.0,
        **overrides,
    }
    return VendorSettings(**values)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[YouCamClient]:
    youcam = YouCamClient(API_KEY, fast_settings(emulator.base_url))
    yield youcam
    youcam.close()


def upload_media(client: YouCamClient, inputs: Inputs) -> tuple[str, str]:
    """Upload the clip and the face photo; returns (video file_id, image file_id)."""
    with inputs.video.open("rb") as video:
        video_id = client.upload(video, size=inputs.video.stat().st_size, content_type="video/mp4",
                                 file_name="clip.mp4")
    with inputs.image.open("rb") as image:
        image_id = client.upload(
            image, size=inputs.image.stat().st_size, content_type="image/jpeg", file_name="face.jpg"
        )
    return video_id, image_id


def poll_until_final(client: YouCamClient, task_id: str, timeout: float = 60.0) -> TaskStatus:
    def final() -> TaskStatus | None:
        status = client.get_task(task_id)
        return status if status.is_final else None

    return eventually(final, timeout, what=f"task {task_id} to end")


def requests_to(emulator: Emulator, route: str) -> dict[str, int]:
    """Responses per status for one emulator route, e.g. "POST /s2s/v2.0/task/face-swap-vid"."""
    return dict(emulator.stats()["responses"].get(route, {}))


FILE_ROUTE = "POST /s2s/v2.0/file/face-swap-vid"
TASK_ROUTE = "POST /s2s/v2.0/task/face-swap-vid"
STATUS_ROUTE = "GET /s2s/v2.0/task/face-swap-vid/{task_id}"
CREDIT_ROUTE = "GET /s2s/v1.0/client/credit"
PUT_ROUTE = "PUT /_upload/{upload_key}"
RESULT_ROUTE = "GET /_results/{task_id}.mp4"
