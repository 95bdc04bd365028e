"""Stream bodies both ways without holding a video in memory or on disk.

Upload: `SizedChunkStream` is an iterable with `__len__`, so requests sends `Content-Length` (no chunked
encoding, which presigned URLs refuse) and urllib3 pulls one chunk at a time from the source's `.read(n)`.
Download: `ResultDownload` is a file-like view of a streamed response, for boto3 `upload_fileobj`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol

import requests
import urllib3

from faceswap.youcam.errors import ResultDownloadFailed, UploadRejected


class Readable(Protocol):
    """Anything with `.read(n)`: an open file, io.RawIOBase, a botocore StreamingBody..."""

    def read(self, size: int = ..., /) -> bytes | None: ...


class SizedChunkStream:
    """A request body of `size` bytes read from `source` in chunks of at most `chunk_bytes`."""

    def __init__(self, source: Readable, size: int, chunk_bytes: int) -> None:
        if size <= 0:
            raise ValueError("size must be positive")
        if chunk_bytes <= 0:
            raise ValueError("chunk_bytes must be positive")
        self._source = source
        self._size = size
        self._chunk_bytes = chunk_bytes
        self.bytes_sent = 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        while self.bytes_sent < self._size:
            chunk = self._read(min(self._chunk_bytes, self._size - self.bytes_sent))
            self.bytes_sent += len(chunk)
            yield chunk

    def _read(self, wanted: int) -> bytes:
        try:
            chunk = self._source.read(wanted)
        except Exception as exc:  # whatever the source raises (S3 read timeout...), the upload is lost
            raise UploadRejected(f"reading the input stream failed: {type(exc).__name__}", retryable=True) from exc
        if not chunk:
            raise UploadRejected(
                f"input stream ended after {self.bytes_sent} of {self._size} declared bytes", retryable=False
            )
        # A source may return more than asked (some wrappers ignore n); never send past the declared size.
        return bytes(chunk[:wanted])


def read_head(source: Readable, size: int) -> bytes:
    """Up to `size` first bytes of `source` (fewer only at its end), for sniffing its type."""
    head = b""
    while len(head) < size:
        try:
            chunk = source.read(size - len(head))
        except Exception as exc:  # as in SizedChunkStream: whatever the source raises, the upload is lost
            raise UploadRejected(f"reading the input stream failed: {type(exc).__name__}", retryable=True) from exc
        if not chunk:
            break
        head += bytes(chunk)
    return head


class HeadFirst:
    """`source` with its already-read first bytes `head` put back in front."""

    def __init__(self, head: bytes, source: Readable) -> None:
        self._head = head
        self._source = source

    def read(self, size: int = -1, /) -> bytes | None:
        if not self._head:
            return self._source.read(size)
        if size is None or size < 0:
            rest = self._source.read(-1) or b""
            chunk, self._head = self._head + bytes(rest), b""
            return chunk
        chunk, self._head = self._head[:size], self._head[size:]
        return chunk


class ResultDownload(io.RawIOBase):
    """A streamed GET of the result video: `.read(n)`, `.iter_chunks()`, or `.as_binary_io()` for boto3
    `upload_fileobj` (typed BinaryIO). Closed by the context manager of `YouCamClient.open_result`."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__()
        self._response = response
        # Decode a Content-Encoding (if a CDN adds one) so that readers see the video bytes.
        response.raw.decode_content = True

    @property
    def content_length(self) -> int | None:
        """Bytes that `.read()` will return, when the server said so (not with a Content-Encoding)."""
        if self._response.headers.get("Content-Encoding", "identity").lower() != "identity":
            return None
        value = self._response.headers.get("Content-Length")
        return int(value) if value and value.isdigit() else None

    @property
    def content_type(self) -> str | None:
        return self._response.headers.get("Content-Type")

    @property
    def raw(self) -> Any:
        """The underlying urllib3 response (file-like, decoding on)."""
        return self._response.raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            data: bytes = self._response.raw.read(None if size is None or size < 0 else size)
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            raise ResultDownloadFailed(
                f"reading the result stream failed: {type(exc).__name__}", retryable=True
            ) from exc
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def iter_chunks(self, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
        while chunk := self.read(chunk_bytes):
            yield chunk

    def as_binary_io(self, buffer_bytes: int = 1024 * 1024) -> BinaryIO:
        """A buffered binary file over this download, e.g. `s3.upload_fileobj(result.as_binary_io(), ...)`."""
        return io.BufferedReader(self, buffer_bytes)

    def close(self) -> None:
        self._response.close()
        super().close()
