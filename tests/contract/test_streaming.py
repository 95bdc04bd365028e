"""A 100 MB upload streams through the client in bounded memory, from a generator-backed, S3-like body.

Memory is measured with `tracemalloc` (peak of Python allocations in the whole process, emulator thread
included, during the upload) rather than RSS: it is deterministic and blind to allocator caching.
"""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

import pytest
from botocore.response import StreamingBody

from faceswap.youcam import YouCamClient
from local.emulator import Emulator, EmulatorConfig
from tests.contract.conftest import API_KEY, PUT_ROUTE, fast_settings, requests_to

SIZE = 100 * 1000 * 1000  # 100 MB: the vendor's video limit (100 MiB) allows it
BLOCK = 64 * 1024
MEMORY_BOUND = 32 * 1024 * 1024


class GeneratedVideoStream(io.RawIOBase):
    """`size` bytes made on demand by a generator (each 64 KiB block differs); never held as a whole."""

    def __init__(self, size: int) -> None:
        self._blocks = self._generate(size)
        self._pending = b""
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.largest_read = 0

    @staticmethod
    def _generate(size: int) -> Iterator[bytes]:
        index = 0
        while size > 0:
            block = (hashlib.sha256(index.to_bytes(8, "big")).digest() * (BLOCK // 32))[:size]
            size -= len(block)
            index += 1
            yield block

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the client must never read the whole body at once")
        self.largest_read = max(self.largest_read, size)
        parts, have = [self._pending], len(self._pending)
        while have < size and (block := next(self._blocks, b"")):
            parts.append(block)
            have += len(block)
        data = b"".join(parts)
        chunk, self._pending = data[:size], data[size:]
        self.md5.update(chunk)
        return chunk


def stored_upload(storage: Path) -> Path:
    [path] = (storage / "uploads").glob("*.bin")
    return path


def md5_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


@pytest.mark.slow
def test_a_100_mb_s3_streaming_body_uploads_in_bounded_memory(tmp_path: Path) -> None:
    config = EmulatorConfig(api_key=API_KEY, storage_dir=tmp_path)
    with Emulator(config) as emulator, YouCamClient(API_KEY, fast_settings(emulator.base_url)) as client:
        source = GeneratedVideoStream(SIZE)
        body = StreamingBody(cast(IO[bytes], source), SIZE)  # what boto3 get_object()["Body"] returns
        tracemalloc.start()
        try:
            started = time.monotonic()
            file_id = client.upload(body, size=SIZE, content_type="video/mp4", file_name="big.mp4")
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        put_counts = requests_to(emulator, PUT_ROUTE)

    print(f"\n100 MB upload: {elapsed:.2f} s, tracemalloc peak {peak / 2**20:.1f} MiB")
    assert file_id
    assert put_counts == {"200": 1}
    assert source.largest_read <= client.settings.transfer_chunk_bytes
    assert peak < MEMORY_BOUND
    stored = stored_upload(tmp_path)
    assert stored.stat().st_size == SIZE
    assert md5_of(stored) == source.md5.hexdigest()
