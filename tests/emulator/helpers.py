"""Plain-requests helpers for the emulator tests (the typed production client lives elsewhere and is not used)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import imageio_ffmpeg
import numpy as np
import requests

from local.eventually import eventually

FILE_PATH = "/s2s/v2.0/file/face-swap-vid"
GENERIC_FILE_PATH = "/s2s/v2.0/file"
TASK_PATH = "/s2s/v2.0/task/face-swap-vid"
CREDIT_PATH = "/s2s/v1.0/client/credit"
FEATURE_COST_PATH = "/s2s/v2.0/credit/feature-cost"
CONTENT_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/mp4", ".bin": "video/mp4",
                 ".jpg": "image/jpeg", ".png": "image/png"}


class VendorClient:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.session.post(self.base_url + path, json=body, timeout=10, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=10, **kw)

    def declare(self, content_type: str, name: str, size: int, path: str = FILE_PATH) -> dict[str, Any]:
        answer = self.post(path, {"files": [{"content_type": content_type, "file_name": name, "file_size": size}]})
        assert answer.status_code == 200, answer.text
        entry: dict[str, Any] = answer.json()["data"]["files"][0]
        return entry

    def upload(self, file: Path, content_type: str | None = None) -> str:
        content_type = content_type or CONTENT_TYPES[file.suffix]
        entry = self.declare(content_type, file.name, file.stat().st_size)
        put = entry["requests"][0]
        with file.open("rb") as body:
            answer = requests.put(put["url"], data=body, headers=put["headers"], timeout=60)
        assert answer.status_code == 200, answer.text
        return str(entry["file_id"])

    def create_task(self, **body: Any) -> requests.Response:
        return self.post(TASK_PATH, body)

    def start(self, src_file_id: str, ref_file_id: str, dst_duration: int = 3) -> str:
        answer = self.create_task(src_file_id=src_file_id, ref_file_id=ref_file_id, dst_duration=dst_duration)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"]["task_id"])

    def status(self, task_id: str) -> requests.Response:
        return self.get(f"{TASK_PATH}/{task_id}")

    def poll_until_final(self, task_id: str, timeout: float = 30.0) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            answer = self.status(task_id)
            assert answer.status_code == 200, answer.text
            data: dict[str, Any] = answer.json()["data"]
            return data if data["task_status"] != "running" else None

        return eventually(final, timeout, what=f"task {task_id} final")


def assert_shape(actual: Any, expected: Any, where: str = "$") -> None:
    """expected is a literal: dicts must have exactly these keys, lists are matched item by item,
    a type matches by isinstance, any other value by equality."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_shape(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for index, (item, value) in enumerate(zip(actual, expected, strict=True)):
            assert_shape(item, value, f"{where}[{index}]")
    elif isinstance(expected, (type, tuple)):
        assert isinstance(actual, expected), f"{where}: {actual!r} is not {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def read_video(path: Path) -> tuple[dict[str, Any], list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
        width, height = meta["size"]
        frames = [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]
    finally:
        reader.close()
    return meta, frames


_cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]


def find_face(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found, _, weights = _cascade.detectMultiScale3(gray, 1.1, 5, minSize=(40, 40), outputRejectLevels=True)
    if len(found) == 0:
        return None
    x, y, w, h = found[int(np.argmax(np.ravel(weights)))]
    return int(x), int(y), int(w), int(h)


def region_changes(before: np.ndarray, after: np.ndarray, face: tuple[int, int, int, int]) -> tuple[float, float]:
    """(mean abs difference inside the face's central area, mean abs difference away from the face)."""
    x, y, w, h = face
    diff = np.abs(before.astype(np.int16) - after.astype(np.int16)).mean(axis=2)
    inner = diff[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4].mean()
    far = np.ones(diff.shape, bool)
    far[max(0, y - h) : y + 2 * h, max(0, x - w) : x + 2 * w] = False
    return float(inner), float(diff[far].mean())
