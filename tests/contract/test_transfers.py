"""What exactly goes over the wire to presigned upload/result URLs, seen by a recording HTTP server.

The emulator cannot show these (it does not report the headers it received), so a tiny stdlib server
on 127.0.0.1 records them: exactly the vendor's upload headers, Content-Length and never chunked, and
never our API key on a URL that is not the API.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faceswap.config import VendorSettings
from faceswap.youcam import ResultDownloadFailed, UploadRejected, UploadTicket, YouCamClient

API_KEY = "secret-api-key-123"
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@dataclass
class Recorder:
    status: int = 200
    seen: list[dict] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _RecordingServer

    def log_message(self, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        digest, received = hashlib.sha256(), 0
        while received < length:
            chunk = self.rfile.read(min(65536, length - received))
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
        self._record(received=received, sha256=digest.hexdigest())
        self._answer(b"")

    def do_GET(self) -> None:
        self._record()
        self._answer(PAYLOAD if self.server.recorder.status == 200 else b"<Error/>")

    def _record(self, **extra: object) -> None:
        self.server.recorder.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers.items()), **extra}
        )

    def _answer(self, body: bytes) -> None:
        self.send_response(self.server.recorder.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.recorder = Recorder()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the tests that break the upload on purpose leave the reply nowhere to go


@pytest.fixture
def server() -> Iterator[_RecordingServer]:
    httpd = _RecordingServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client(server: _RecordingServer) -> YouCamClient:
    # The API base URL is elsewhere: the recording server plays the presigned storage only.
    settings = VendorSettings(base_url="http://127.0.0.1:9", max_retries=1, backoff_factor_seconds=0.0)
    return YouCamClient(API_KEY, settings)


def url(server: _RecordingServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def ticket(server: _RecordingServer, headers: dict[str, str]) -> UploadTicket:
    return UploadTicket(file_id="f1", url=url(server, "/bucket/obj?X-Amz-Signature=abc"), headers=headers)


def test_put_sends_exactly_the_vendor_headers_and_the_bytes_without_our_key(
    server: _RecordingServer, client: YouCamClient
) -> None:
    vendor_headers = {"Content-Type": "video/mp4", "Content-Length": str(len(PAYLOAD)), "x-amz-meta-k": "v"}
    client.put_file(ticket(server, vendor_headers), io.BytesIO(PAYLOAD), size=len(PAYLOAD))

    [put] = server.recorder.seen
    assert put["method"] == "PUT" and put["path"] == "/bucket/obj?X-Amz-Signature=abc"
    for name, value in vendor_headers.items():
        assert put["headers"][name] == value
    assert "Transfer-Encoding" not in put["headers"]
    assert not any(name.lower() == "authorization" for name in put["headers"])
    assert API_KEY not in repr(put["headers"])
    assert (put["received"], put["sha256"]) == (len(PAYLOAD), hashlib.sha256(PAYLOAD).hexdigest())


def test_a_size_disagreeing_with_the_vendor_content_length_is_refused_before_sending(
    server: _RecordingServer, client: YouCamClient
) -> None:
    with pytest.raises(UploadRejected, match="expects 5 bytes"):
        client.put_file(ticket(server, {"Content-Length": "5"}), io.BytesIO(PAYLOAD), size=len(PAYLOAD))
    assert server.recorder.seen == []


def test_a_stream_shorter_than_declared_is_an_upload_error(server: _RecordingServer, client: YouCamClient) -> None:
    with pytest.raises(UploadRejected, match="ended after 1000 of 2000"):
        client.put_file(ticket(server, {}), io.BytesIO(b"x" * 1000), size=2000)


def test_a_source_that_fails_mid_stream_is_a_retryable_upload_error(
    server: _RecordingServer, client: YouCamClient
) -> None:
    class Broken(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise TimeoutError("S3 read timed out")

    with pytest.raises(UploadRejected) as caught:
        client.put_file(ticket(server, {}), Broken(), size=10)
    assert caught.value.retryable


@pytest.mark.parametrize(("status", "retryable"), [(403, False), (400, False), (503, True)])
def test_storage_refusals_are_upload_errors_and_are_not_replayed(
    server: _RecordingServer, client: YouCamClient, status: int, retryable: bool
) -> None:
    server.recorder.status = status
    with pytest.raises(UploadRejected) as caught:
        client.put_file(ticket(server, {}), io.BytesIO(PAYLOAD), size=len(PAYLOAD))
    assert (caught.value.http_status, caught.value.retryable) == (status, retryable)
    assert len(server.recorder.seen) == 1  # the stream is consumed: a PUT is never retried


def test_result_download_streams_without_our_key(server: _RecordingServer, client: YouCamClient) -> None:
    with client.open_result(url(server, "/results/out.mp4?sig=1")) as result:
        assert result.content_length == len(PAYLOAD)
        digest = hashlib.sha256()
        for chunk in result.iter_chunks(64 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(PAYLOAD).hexdigest()
    [get] = server.recorder.seen
    assert not any(name.lower() == "authorization" for name in get["headers"])
    assert get["headers"].get("Accept-Encoding") == "identity"


def test_result_download_as_a_binary_file_for_boto3(server: _RecordingServer, client: YouCamClient) -> None:
    with client.open_result(url(server, "/results/out.mp4")) as result:
        fileobj = result.as_binary_io(256 * 1024)
        digest = hashlib.sha256()
        while chunk := fileobj.read(100_000):  # the odd size crosses buffer boundaries
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(PAYLOAD).hexdigest()
    assert result.closed


@pytest.mark.parametrize(("status", "retryable"), [(403, False), (404, False), (500, True)])
def test_result_url_refusals(server: _RecordingServer, client: YouCamClient, status: int, retryable: bool) -> None:
    server.recorder.status = status
    with pytest.raises(ResultDownloadFailed) as caught, client.open_result(url(server, "/results/x.mp4")):
        pass
    assert (caught.value.http_status, caught.value.retryable) == (status, retryable)


def test_repr_never_shows_the_key(client: YouCamClient) -> None:
    assert API_KEY not in repr(client) and API_KEY not in str(vars(client).get("_settings"))
