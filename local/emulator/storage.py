"""Where uploaded inputs, task scratch space and result videos live on disk."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


class Storage:
    def __init__(self, root: Path | None) -> None:
        self._owned = root is None  # a temp dir we made is ours to delete
        self.root = Path(tempfile.mkdtemp(prefix="youcam-emulator-")) if root is None else Path(root)
        self.uploads = self.root / "uploads"
        self.results = self.root / "results"
        self.work = self.root / "work"
        self._make_dirs()

    def _make_dirs(self) -> None:
        for folder in (self.uploads, self.results, self.work):
            folder.mkdir(parents=True, exist_ok=True)

    def upload_path(self, upload_key: str) -> Path:
        return self.uploads / f"{upload_key}.bin"

    def result_path(self, task_id: str) -> Path:
        return self.results / f"{task_id}.mp4"

    def workdir(self, task_id: str) -> Path:
        path = self.work / task_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def clear(self) -> None:
        for folder in (self.uploads, self.results, self.work):
            shutil.rmtree(folder, ignore_errors=True)
        self._make_dirs()

    def close(self) -> None:
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)
