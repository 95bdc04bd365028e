"""Every client call against the emulator: upload, create (by file id and by URL), status, result, credit."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faceswap.youcam import CreatedTask, YouCamClient
from local.emulator import Emulator, EmulatorConfig
from tests.contract.conftest import (
    API_KEY,
    CREDIT_ROUTE,
    FILE_ROUTE,
    PUT_ROUTE,
    RESULT_ROUTE,
    Inputs,
    fast_settings,
    poll_until_final,
    requests_to,
    upload_media,
)


def test_upload_registers_each_file_and_streams_its_bytes(
    emulator: Emulator, client: YouCamClient, inputs: Inputs
) -> None:
    video_id, image_id = upload_media(client, inputs)

    assert video_id and image_id and video_id != image_id
    stats = emulator.stats()
    assert (stats["files_created"], stats["uploads_completed"]) == (2, 2)
    assert requests_to(emulator, FILE_ROUTE) == {"200": 2}
    assert requests_to(emulator, PUT_ROUTE) == {"200": 2}


def test_a_task_by_file_ids_runs_to_success_and_its_result_streams(
    emulator: Emulator, client: YouCamClient, inputs: Inputs
) -> None:
    credit_before = client.credit_balance()
    video_id, image_id = upload_media(client, inputs)

    created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    assert isinstance(created, CreatedTask) and created.polling_interval_seconds is None
    status = poll_until_final(client, created.task_id)

    assert (status.status, status.succeeded, status.error_code) == ("success", True, None)
    status.raise_for_error()  # a success raises nothing
    assert status.result_url
    digest, received = hashlib.sha256(), 0
    with client.open_result(status.result_url) as result:
        head = result.read(8)
        digest.update(head)
        for chunk in result.iter_chunks(16 * 1024):
            digest.update(chunk)
            received += len(chunk)
        assert result.content_length == received + len(head)
    assert head[4:8] == b"ftyp"  # an MP4 file
    with open(emulator.result_file(created.task_id), "rb") as stored:
        assert digest.hexdigest() == hashlib.file_digest(stored, "sha256").hexdigest()
    assert requests_to(emulator, RESULT_ROUTE) == {"200": 1}
    # 1 unit per started 5 s of video.
    assert client.credit_balance() == credit_before - 1
    assert emulator.stats()["units_charged"] == 1


@pytest.fixture
def media_server(inputs: Inputs) -> Iterator[str]:
    """Serves the media folder over HTTP, as a presigned S3 GET would."""
    handler = functools.partial(QuietFileHandler, directory=str(inputs.video.parent))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class QuietFileHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_a_task_by_urls_runs_to_success(
    emulator: Emulator, client: YouCamClient, inputs: Inputs, media_server: str
) -> None:
    created = client.create_task(
        src_file_url=f"{media_server}/{inputs.video.name}",
        ref_file_url=f"{media_server}/{inputs.image.name}",
        dst_duration=inputs.seconds,
    )
    status = poll_until_final(client, created.task_id)
    assert status.succeeded and status.result_url
    assert emulator.stats()["files_created"] == 0


def test_a_vendor_polling_interval_is_surfaced_on_create_and_status(inputs: Inputs) -> None:
    config = EmulatorConfig(api_key=API_KEY, polling_interval_seconds=2.5)
    with Emulator(config) as emulator, YouCamClient(API_KEY, fast_settings(emulator.base_url)) as client:
        video_id, image_id = upload_media(client, inputs)
        created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
        status = client.get_task(created.task_id)
    assert created.polling_interval_seconds == 2.5
    assert status.polling_interval_seconds == 2.5


def test_credit_balance_reports_the_spendable_api_units(emulator: Emulator, client: YouCamClient) -> None:
    emulator.set_faults(credit_units=37)
    assert client.credit_balance() == 37
    assert requests_to(emulator, CREDIT_ROUTE) == {"200": 1}
