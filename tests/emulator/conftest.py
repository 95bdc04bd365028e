"""Fixtures: generated media (once per session), a fresh emulator per test, a webhook receiver, a file server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local import media
from local.emulator import Clock, Emulator, EmulatorConfig
from local.eventually import eventually
from tests.emulator.helpers import VendorClient


@dataclass(frozen=True)
class Media:
    face_video: Path  # 3 s, 640x360, 25 fps
    short_face_video: Path  # 1 s, for lifecycle tests that do not measure the swap
    no_face_video: Path
    reference_jpg: Path
    reference_png: Path
    no_face_image: Path


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> Media:
    folder = tmp_path_factory.mktemp("media")
    return Media(
        face_video=media.make_video(folder / "face.mp4"),
        short_face_video=media.make_video(folder / "short.mp4", seconds=1.0, size=(320, 180)),
        no_face_video=media.make_video(folder / "no-face.mp4", seconds=1.0, size=(320, 180), face=False),
        reference_jpg=media.make_face_image(folder / "reference.jpg"),
        reference_png=media.make_face_image(folder / "reference.png"),
        no_face_image=media.make_no_face_image(folder / "coffee.jpg"),
    )


@pytest.fixture
def make_emulator(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    """Start emulators with config overrides; all are stopped after the test."""
    started: list[Emulator] = []

    def start(clock: Clock | None = None, **overrides: Any) -> Emulator:
        overrides.setdefault("storage_dir", tmp_path / f"emulator-{len(started)}")
        emulator = Emulator(EmulatorConfig(**overrides), clock=clock).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator()


@pytest.fixture
def client(emulator: Emulator) -> VendorClient:
    return VendorClient(emulator.base_url, emulator.config.api_key)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class WebhookReceiver:
    url: str
    answer_status: int = 204
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The deliveries received so far, once there are at least `count` (TimeoutError otherwise)."""
        def arrived() -> list[Received] | None:
            with self.lock:
                return list(self.received) if len(self.received) >= count else None

        return eventually(arrived, timeout, interval=0.02, what=f"{count} webhook deliveries")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """An HTTP endpoint on loopback that records every webhook POST."""
    state = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.received.append(Received(dict(self.headers.items()), body, time.time()))
            self.send_response(state.answer_status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder): serves the folder's files over HTTP, like a presigned S3 GET would."""
    folder = tmp_path / "served"
    folder.mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()
