"""Random access to a file without downloading it: the probes read only the headers they need."""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class RangeReader(Protocol):
    """A file of known size that can be read in pieces. `read` returns fewer bytes only at the end."""

    @property
    def size(self) -> int: ...

    def read(self, start: int, length: int) -> bytes: ...


def _clamp(start: int, length: int, size: int) -> int:
    """How many bytes a read of `length` at `start` can return from a file of `size` bytes."""
    if start < 0 or length < 0:
        raise ValueError(f"bad range: start={start} length={length}")
    return max(0, min(length, size - start))


class BytesRangeReader:
    """Reads from bytes held in memory (tests, small payloads)."""

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self.requests = 0
        self.bytes_fetched = 0

    @property
    def size(self) -> int:
        return len(self._data)

    def read(self, start: int, length: int) -> bytes:
        length = _clamp(start, length, self.size)
        self.requests += 1
        self.bytes_fetched += length
        return self._data[start:start + length]


class FileRangeReader:
    """Reads from a local file, opening it per read so the reader holds no handle."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._size = os.path.getsize(self._path)
        self.requests = 0
        self.bytes_fetched = 0

    @property
    def size(self) -> int:
        return self._size

    def read(self, start: int, length: int) -> bytes:
        length = _clamp(start, length, self._size)
        self.requests += 1
        if length == 0:
            return b""
        with open(self._path, "rb") as handle:
            handle.seek(start)
            data = handle.read(length)
        self.bytes_fetched += len(data)
        return data


class S3RangeReader:
    """Reads an S3 object with ranged GETs; `requests` and `bytes_fetched` count what it cost.

    Pass `size` when it is already known (the S3 event carries it) to save the HEAD request.
    """

    def __init__(self, s3_client: Any, bucket: str, key: str, size: int | None = None) -> None:
        self._s3 = s3_client
        self.bucket = bucket
        self.key = key
        self.requests = 0
        self.bytes_fetched = 0
        self._size = size if size is not None else self._head_size()

    def _head_size(self) -> int:
        self.requests += 1
        return int(self._s3.head_object(Bucket=self.bucket, Key=self.key)["ContentLength"])

    @property
    def size(self) -> int:
        return self._size

    def read(self, start: int, length: int) -> bytes:
        length = _clamp(start, length, self._size)
        if length == 0:  # S3 answers 416 to an empty or out-of-bounds range
            return b""
        self.requests += 1
        byte_range = f"bytes={start}-{start + length - 1}"  # inclusive bounds
        response = self._s3.get_object(Bucket=self.bucket, Key=self.key, Range=byte_range)
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        self.bytes_fetched += len(data)
        return data


class HeadCachedReader:
    """Prefetches the first `head_bytes` in one read and serves reads inside them from memory.

    Probes start with this block (it usually holds every header they need). A read past it fetches at least
    `window_bytes` and keeps them, so headers packed close together (JPEG segments, a small moov right after
    its header) cost one request. `reads_beyond_head` bounds the cost of a hostile file.
    """

    def __init__(self, reader: RangeReader, head_bytes: int = 64 * 1024, window_bytes: int = 4096) -> None:
        self._reader = reader
        self._window_bytes = window_bytes
        self._window_start = 0
        self._window = b""
        self.size = reader.size
        self.head = reader.read(0, min(head_bytes, self.size))
        self.reads_beyond_head = 0

    def read(self, start: int, length: int) -> bytes:
        if start + length <= len(self.head):
            return self.head[start:start + length]
        offset = start - self._window_start
        if offset >= 0 and start + length <= self._window_start + len(self._window):
            return self._window[offset:offset + length]
        self.reads_beyond_head += 1
        data = self._reader.read(start, max(length, self._window_bytes))
        self._window_start, self._window = start, data
        return data[:length]
