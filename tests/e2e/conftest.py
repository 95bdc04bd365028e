"""The local stack for end-to-end tests: the session's synthesized template deployed into moto, the vendor
emulator, webhooks through the local API front. One deployment per session; each test gets a clean emulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from local.emulator import EmulatorConfig
from local.media import make_face_image, make_no_face_image, make_video
from local.pipeline import LocalPipeline
from tests.conftest import Synthesized

# Wait states and Step Functions timeouts run 20x faster than on AWS: a 5 s polling_interval takes 0.25 s.
TIME_SCALE = 0.05


@dataclass(frozen=True)
class Media:
    clip: Path
    face: Path
    no_face_video: Path
    no_face_image: Path
    root: Path

    def video(self, name: str, **kwargs: object) -> Path:
        """A generated video with other properties (fps, seconds, size...), made once per name."""
        path = self.root / name
        if not path.exists():
            make_video(path, **kwargs)  # type: ignore[arg-type]
        return path


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    root = tmp_path_factory.mktemp("media")
    return Media(
        clip=make_video(root / "clip.mp4", seconds=3),
        face=make_face_image(root / "face.png"),
        no_face_video=make_video(root / "no-face.mp4", seconds=2, face=False),
        no_face_image=make_no_face_image(root / "no-face.png"),
        root=root,
    )


@pytest.fixture(scope="package")
def local_pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    """Package-scoped: torn down before other packages start their own local AWS (one may run at a time)."""
    with LocalPipeline(synthesized.outdir, EmulatorConfig(), time_scale=TIME_SCALE) as pipeline:
        yield pipeline


@pytest.fixture
def pipeline(local_pipeline: LocalPipeline) -> Iterator[LocalPipeline]:
    """The shared stack with the emulator's faults, counters and settings back to their defaults."""
    emulator = local_pipeline.emulator
    emulator.reset()
    emulator.config.polling_interval_seconds = None
    yield local_pipeline
    emulator.reset()
    emulator.config.polling_interval_seconds = None
