"""Where the vendor's documents are unclear, the client tolerates instead of failing after units are spent: each
reading the documents allow, served by the emulator over real HTTP (issue 14 §3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceswap.config import DEFAULT_FILE_PATH, GENERIC_FILE_PATH
from faceswap.youcam import EndpointNotFound, MediaDownloadFailed, RateLimited, YouCamClient
from local.emulator import Emulator
from local.media import make_face_image
from tests.contract.conftest import (
    API_KEY,
    MAX_RETRIES,
    TASK_ROUTE,
    Inputs,
    fast_settings,
    poll_until_final,
    requests_to,
    upload_media,
)

GENERIC_FILE_ROUTE = f"POST {GENERIC_FILE_PATH}"
FEATURE_FILE_ROUTE = f"POST {DEFAULT_FILE_PATH}"


@pytest.mark.parametrize("place", ["data.results.url", "data.results[0].url", "data.result_url", "url"])
def test_the_result_url_is_found_wherever_the_answer_carries_it(
    emulator: Emulator, client: YouCamClient, inputs: Inputs, place: str
) -> None:
    emulator.set_faults(result_url_place=place)
    video_id, image_id = upload_media(client, inputs)
    created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    status = poll_until_final(client, created.task_id)
    assert status.succeeded and status.result_url
    with client.open_result(status.result_url) as result:
        assert result.read()[4:8] == b"ftyp"


def _quicktime(inputs: Inputs, folder: Path, name: str = "clip.mov") -> Path:
    """The test clip as a QuickTime file: same boxes, major brand "qt  " (ffmpeg reads it as mov)."""
    data = bytearray(inputs.video.read_bytes())
    assert data[4:8] == b"ftyp"
    data[8:12] = b"qt  "
    path = folder / name
    path.write_bytes(bytes(data))
    return path


def _upload(client: YouCamClient, path: Path, name: str | None = None, hint: str | None = None) -> str:
    with path.open("rb") as stream:
        return client.upload(stream, size=path.stat().st_size, file_name=name or path.name, content_type=hint)


def test_a_mov_is_declared_as_video_mp4_and_runs(
    emulator: Emulator, client: YouCamClient, inputs: Inputs, tmp_path: Path
) -> None:
    video_id = _upload(client, _quicktime(inputs, tmp_path), hint="video/quicktime")
    image_id = _upload(client, inputs.image)
    assert emulator.stats()["registrations_by_content_type"] == {"video/mp4": 1, "image/jpeg": 1}
    created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    assert poll_until_final(client, created.task_id).succeeded


def test_the_mov_content_type_is_configurable(emulator: Emulator, inputs: Inputs, tmp_path: Path) -> None:
    settings = fast_settings(emulator.base_url, mov_content_type="video/quicktime")
    with YouCamClient(API_KEY, settings) as client:
        _upload(client, _quicktime(inputs, tmp_path))
    assert emulator.stats()["registrations_by_content_type"] == {"video/quicktime": 1}


def test_the_image_type_comes_from_the_bytes_not_the_name(
    emulator: Emulator, client: YouCamClient, inputs: Inputs, tmp_path: Path
) -> None:
    png = make_face_image(tmp_path / "face.png")
    misnamed_png = _upload(client, png, name="face.jpg", hint="image/jpeg")
    _upload(client, inputs.image, name="face.png")
    assert emulator.stats()["registrations_by_content_type"] == {"image/png": 1, "image/jpeg": 1}
    video_id = _upload(client, inputs.video)
    created = client.create_task(src_file_id=video_id, ref_file_id=misnamed_png, dst_duration=inputs.seconds)
    assert poll_until_final(client, created.task_id).succeeded


@pytest.mark.parametrize(("configured", "missing", "other"), [
    (DEFAULT_FILE_PATH, DEFAULT_FILE_PATH, GENERIC_FILE_PATH),
    (GENERIC_FILE_PATH, GENERIC_FILE_PATH, DEFAULT_FILE_PATH),
])
def test_a_404_from_the_file_api_path_falls_back_to_the_other_and_sticks_to_it(
    emulator: Emulator, inputs: Inputs, configured: str, missing: str, other: str
) -> None:
    emulator.set_faults(file_path_missing=missing)
    with YouCamClient(API_KEY, fast_settings(emulator.base_url, file_path=configured)) as client:
        upload_media(client, inputs)
        assert client.file_path == other
    assert requests_to(emulator, f"POST {missing}") == {"404": 1}  # tried once, then remembered
    assert requests_to(emulator, f"POST {other}") == {"200": 2}


def test_an_unknown_configured_file_path_falls_back_to_the_known_ones(emulator: Emulator, inputs: Inputs) -> None:
    with YouCamClient(API_KEY, fast_settings(emulator.base_url, file_path="/s2s/v9.9/file")) as client:
        upload_media(client, inputs)
        assert client.file_path == DEFAULT_FILE_PATH


def test_no_file_api_path_answering_is_endpoint_not_found(emulator: Emulator, inputs: Inputs) -> None:
    with YouCamClient(API_KEY, fast_settings(emulator.base_url + "/elsewhere")) as client, \
            pytest.raises(EndpointNotFound) as caught:
        upload_media(client, inputs)
    assert (caught.value.http_status, caught.value.retryable) == (404, False)
    assert emulator.stats()["status_codes"] == {"404": 2}  # both known paths, once each


def test_amount_dec_is_read_before_the_deprecated_amount(emulator: Emulator, client: YouCamClient) -> None:
    emulator.set_faults(credit_units=10.04)  # amount 10, amount_dec 10.04
    assert client.credit_balance() == 10.04
    emulator.set_faults(credit_legacy_amount=True)  # amount only
    assert client.credit_balance() == 10


def test_only_api_entries_are_spendable(emulator: Emulator, client: YouCamClient) -> None:
    extra = [{"id": 2, "type": "ApiSubsToken", "amount": 2, "amount_dec": 2.5, "expiry": 1704789135000},
             {"id": 3, "type": "WebSubsToken", "amount": 100, "amount_dec": 100.0}]
    emulator.set_faults(credit_units=10.04, credit_extra_entries=extra)
    balance = client.credit()
    assert [(e.type, e.units, e.spendable_by_api) for e in balance.entries] == [
        ("ApiPaygToken", 10.04, True), ("ApiSubsToken", 2.5, True), ("WebSubsToken", 100.0, False)]
    assert balance.spendable_units == client.credit_balance() == 12.54
    assert balance.entries[1].expiry_ms == 1704789135000


def test_a_task_from_a_url_that_does_not_answer_fails_with_the_download_code(
    emulator: Emulator, client: YouCamClient, inputs: Inputs
) -> None:
    video_id, _ = upload_media(client, inputs)
    created = client.create_task(src_file_id=video_id, ref_file_url="http://127.0.0.1:9/expired.jpg",
                                 dst_duration=inputs.seconds)
    status = poll_until_final(client, created.task_id)
    with pytest.raises(MediaDownloadFailed) as caught:
        status.raise_for_error()
    assert caught.value.code == "error_download_image" and not caught.value.retryable


@pytest.mark.parametrize(("limit", "retry_after"), [
    ({"max_running_tasks": 0, "retry_after_seconds": 7}, 7),
    ({"create_rate_per_second": 0.25, "create_burst": 1}, 4),
])
def test_a_429_on_create_exposes_retry_after(
    emulator: Emulator, client: YouCamClient, inputs: Inputs, limit: dict[str, object], retry_after: int
) -> None:
    video_id, image_id = upload_media(client, inputs)
    if "create_rate_per_second" in limit:  # spend the one token first
        emulator.set_faults(never_finish=True, **limit)
        client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    else:
        emulator.set_faults(**limit)
    with pytest.raises(RateLimited) as caught:
        client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    assert (caught.value.http_status, caught.value.retryable) == (429, True)
    assert caught.value.retry_after_seconds == retry_after
    assert requests_to(emulator, TASK_ROUTE).get("429") == MAX_RETRIES + 1  # the HTTP layer retried it first
