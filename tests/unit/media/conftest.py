"""Fixtures: a lazily encoded library of real test videos, and a moto S3 server reached over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from . import media_files as mf

_RECIPES: dict[str, Callable[[Path], Path]] = {
    "h264.mp4": lambda p: mf.write_video(p),  # ffmpeg's default: moov after mdat
    "faststart.mp4": lambda p: mf.write_video(p, output_params=["-movflags", "+faststart"]),
    "30fps.mp4": lambda p: mf.write_video(p, fps=30, frames=30),
    "29.97fps.mp4": lambda p: mf.write_video(p, fps=29.97, frames=30),
    "60fps.mp4": lambda p: mf.write_video(p, fps=60, frames=12),
    "31s.mp4": lambda p: mf.write_video(p, fps=1, frames=31),
    "30s.mp4": lambda p: mf.write_video(p, fps=2, frames=60),
    "4096x2160.mp4": lambda p: mf.write_video(p, size=(4096, 2160), frames=1),
    "portrait.mp4": lambda p: mf.write_video(p, size=(48, 96), frames=5),
    "h264.mov": lambda p: mf.write_video(p),
    "mpeg4.mp4": lambda p: mf.write_video(p, codec="mpeg4"),
    "mpeg4.mov": lambda p: mf.write_video(p, codec="mpeg4"),
    "hevc.mp4": lambda p: mf.write_video(p, codec="libx265", output_params=["-x265-params", "log-level=error"]),
    "fragmented.mp4": lambda p: mf.write_video(p, output_params=["-movflags", "frag_keyframe+empty_moov"]),
    "mpeg4.avi": lambda p: mf.write_video(p, codec="mpeg4"),
    "aac.mp4": lambda p: mf.write_video_with_audio(p, ["-c:a", "aac"]),
    "mp3.mp4": lambda p: mf.write_video_with_audio(p, ["-c:a", "libmp3lame"]),
    "mp3.mov": lambda p: mf.write_video_with_audio(p, ["-c:a", "libmp3lame"]),
    "amr.mov": lambda p: mf.write_video_with_audio(p, ["-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1"]),
    "opus.mp4": lambda p: mf.write_video_with_audio(p, ["-c:a", "libopus", "-ar", "48000"]),
    "audio_only.m4a": lambda p: mf.ffmpeg_output(p, "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"),
    "mjpeg.mp4": lambda p: mf.ffmpeg_output(p, "-f", "lavfi", "-i", "color=s=64x64:r=25:d=0.4", "-c:v", "mjpeg",
                                            "-pix_fmt", "yuvj420p"),
}


class VideoLibrary:
    """Encodes each named video on first use, once per test session."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._made: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        if name not in self._made:
            self._made[name] = _RECIPES[name](self._directory / name)
        return self._made[name]

    def bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> VideoLibrary:
    return VideoLibrary(tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3(moto_endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket="media-validation")
    return "media-validation"
