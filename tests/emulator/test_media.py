"""The generated demo media have the properties the emulator tests and the demo rely on."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from local import media
from tests.emulator.conftest import Media
from tests.emulator.helpers import find_face, read_video


def _load_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def test_face_video_properties(media_files: Media) -> None:
    meta, frames = read_video(media_files.face_video)
    assert (meta["codec"], meta["fps"], meta["size"], meta["duration"]) == ("h264", 25.0, (640, 360), 3.0)
    assert len(frames) == 75
    assert all(find_face(frames[i]) is not None for i in range(0, 75, 5))
    assert media_files.face_video.stat().st_size < 500_000
    boxes = [find_face(frames[i]) for i in (0, 37)]
    assert boxes[0] != boxes[1], "the face should move (gentle pan/zoom)"


def test_no_face_video_has_no_face(media_files: Media) -> None:
    _, frames = read_video(media_files.no_face_video)
    assert all(find_face(frame) is None for frame in frames[::3])


def test_reference_face_differs_from_the_video_face(media_files: Media) -> None:
    reference = _load_rgb(media_files.reference_jpg)
    original = media.astronaut_rgb()
    face = find_face(reference)
    assert face is not None and find_face(original) is not None
    x, y, w, h = face
    assert np.abs(reference[y:y + h, x:x + w].astype(int) - original[y:y + h, x:x + w].astype(int)).mean() > 30
    assert find_face(_load_rgb(media_files.no_face_image)) is None


@pytest.mark.parametrize(("moov_at_end", "order"), [(False, ["ftyp", "moov"]), (True, ["ftyp", "free", "mdat"])])
def test_moov_position(tmp_path: Path, moov_at_end: bool, order: list[str]) -> None:
    video = media.make_video(tmp_path / "v.mp4", seconds=0.2, size=(160, 96), moov_at_end=moov_at_end)
    boxes = media.mp4_top_level_boxes(video)
    assert boxes[: len(order)] == order
    assert (boxes[-1] == "moov") is moov_at_end


def test_limit_helpers(tmp_path: Path) -> None:
    meta, frames = read_video(media.make_video(tmp_path / "v.mp4", seconds=2, fps=10, size=(128, 72),
                                               face=False, audio=True))
    assert (meta["fps"], meta["size"], len(frames), meta["audio_codec"]) == (10.0, (128, 72), 20, "aac")
    sparse = media.make_sparse_file(tmp_path / "big.bin", 50 * 1024 * 1024, head=b"abc")
    assert sparse.stat().st_size == 50 * 1024 * 1024 and sparse.read_bytes()[:3] == b"abc"
