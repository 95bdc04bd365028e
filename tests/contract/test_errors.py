"""Every vendor error class, produced by the emulator over HTTP, arrives as its typed error."""

from __future__ import annotations

import pytest

from faceswap.youcam import (
    ContentRejected,
    EngineError,
    InsufficientCredit,
    InvalidApiKey,
    InvalidParameters,
    InvalidTaskId,
    MediaDownloadFailed,
    MediaRejected,
    NoFaceDetected,
    ServerError,
    TaskFailed,
    TaskTimedOut,
    YouCamClient,
)
from local.emulator import Emulator
from tests.contract.conftest import (
    CREDIT_ROUTE,
    FILE_ROUTE,
    MAX_RETRIES,
    STATUS_ROUTE,
    TASK_ROUTE,
    Inputs,
    fast_settings,
    poll_until_final,
    requests_to,
    upload_media,
)
from tests.media import Media


def test_a_bad_api_key_is_refused_on_every_call_and_never_retried(emulator: Emulator, inputs: Inputs) -> None:
    with YouCamClient("not-the-key", fast_settings(emulator.base_url)) as client:
        calls = {
            CREDIT_ROUTE: client.credit_balance,
            FILE_ROUTE: lambda: client.register_file(content_type="video/mp4", file_name="a.mp4", file_size=9),
            TASK_ROUTE: lambda: client.create_task(src_file_id="a", ref_file_id="b", dst_duration=2),
            STATUS_ROUTE: lambda: client.get_task("some-task"),
        }
        for route, call in calls.items():
            with pytest.raises(InvalidApiKey) as caught:
                call()
            assert (caught.value.http_status, caught.value.retryable) == (401, False)
            assert requests_to(emulator, route) == {"401": 1}


def test_a_revoked_key_is_refused(emulator: Emulator, client: YouCamClient) -> None:
    emulator.set_faults(reject_api_key=True)
    with pytest.raises(InvalidApiKey):
        client.credit_balance()


@pytest.mark.parametrize(
    "arguments",
    [
        {"src_file_id": "unknown-file", "ref_file_id": "unknown-too", "dst_duration": 2},
        {"src_file_id": "unknown-file", "ref_file_url": "http://127.0.0.1:9/f.jpg", "dst_duration": 2},
    ],
)
def test_parameters_the_vendor_refuses_are_invalid_parameters_and_not_retried(
    emulator: Emulator, client: YouCamClient, arguments: dict
) -> None:
    with pytest.raises(InvalidParameters) as caught:
        client.create_task(**arguments)
    assert (caught.value.http_status, caught.value.code) == (400, "InvalidParameters")
    assert requests_to(emulator, TASK_ROUTE) == {"400": 1}


def test_a_video_longer_than_the_vendor_limit_is_refused(
    emulator: Emulator, client: YouCamClient, inputs: Inputs
) -> None:
    video_id, image_id = upload_media(client, inputs)
    with pytest.raises(InvalidParameters, match="exceeds"):
        client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=31)


def test_an_unsupported_file_type_is_refused_at_registration(emulator: Emulator, client: YouCamClient) -> None:
    with pytest.raises(InvalidParameters):
        client.register_file(content_type="application/pdf", file_name="a.pdf", file_size=10)
    assert requests_to(emulator, FILE_ROUTE) == {"400": 1}


@pytest.mark.parametrize(
    "arguments",
    [
        {"src_file_id": "a", "src_file_url": "http://x/v.mp4", "ref_file_id": "b", "dst_duration": 2},
        {"ref_file_id": "b", "dst_duration": 2},
        {"src_file_id": "a", "ref_file_id": "b", "ref_file_url": "http://x/f.jpg", "dst_duration": 2},
        {"src_file_id": "a", "dst_duration": 2},
        {"src_file_id": "a", "ref_file_id": "b", "dst_duration": 0},
        {"src_file_id": "a", "ref_file_id": "b", "dst_duration": True},
        {"src_file_id": "a", "ref_file_id": "b", "dst_duration": 2.5},
        {"src_file_url": "ftp://example/v.mp4", "ref_file_url": "http://127.0.0.1:9/f.jpg", "dst_duration": 2},
        {"src_file_id": "a", "ref_file_url": "s3://bucket/f.jpg", "dst_duration": 2},
    ],
)
def test_malformed_task_requests_are_refused_locally_before_any_http(
    emulator: Emulator, client: YouCamClient, arguments: dict
) -> None:
    with pytest.raises(InvalidParameters) as caught:
        client.create_task(**arguments)
    assert caught.value.http_status is None
    assert emulator.stats()["requests"] == {}


def test_insufficient_credit_creates_nothing(emulator: Emulator, client: YouCamClient, inputs: Inputs) -> None:
    video_id, image_id = upload_media(client, inputs)
    emulator.set_faults(credit_units=0)
    with pytest.raises(InsufficientCredit) as caught:
        client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    assert (caught.value.code, caught.value.retryable) == ("CreditInsufficiency", False)
    assert emulator.stats()["tasks_created"] == 0
    assert requests_to(emulator, TASK_ROUTE) == {"400": 1}


def test_an_unknown_task_id_is_invalid(emulator: Emulator, client: YouCamClient) -> None:
    with pytest.raises(InvalidTaskId):
        client.get_task("no-such+task==")
    assert requests_to(emulator, STATUS_ROUTE) == {"400": 1}


def test_an_expired_task_id_is_invalid(emulator: Emulator, client: YouCamClient, inputs: Inputs) -> None:
    video_id, image_id = upload_media(client, inputs)
    created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    emulator.set_faults(expire_tasks=True)
    with pytest.raises(InvalidTaskId) as caught:
        client.get_task(created.task_id)
    assert not caught.value.retryable


def test_a_task_timeout_is_its_own_error(emulator: Emulator, client: YouCamClient, inputs: Inputs) -> None:
    video_id, image_id = upload_media(client, inputs)
    emulator.set_faults(task_timeout=True)
    created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    with pytest.raises(TaskTimedOut) as caught:
        client.get_task(created.task_id)
    assert (caught.value.http_status, caught.value.retryable) == (500, False)
    # A 500 is retried by the HTTP layer before it is mapped (the status code alone cannot tell them apart).
    assert requests_to(emulator, STATUS_ROUTE) == {"500": MAX_RETRIES + 1}


def test_server_errors_surface_after_the_retries(emulator: Emulator, client: YouCamClient) -> None:
    emulator.set_faults(rate_5xx=1.0, status_5xx=502)
    with pytest.raises(ServerError) as caught:
        client.credit_balance()
    assert (caught.value.http_status, caught.value.retryable) == (502, True)
    assert requests_to(emulator, CREDIT_ROUTE) == {"502": MAX_RETRIES + 1}


ENGINE_OUTCOMES = [
    ("error_no_face", NoFaceDetected, False),
    ("error_pose", NoFaceDetected, False),
    ("error_face_parsing", NoFaceDetected, False),
    ("error_nsfw_content_detected", ContentRejected, False),
    ("exceed_nsfw_retry_limits", ContentRejected, False),
    ("error_decode_video", MediaRejected, False),
    ("error_unsupported_video", MediaRejected, False),
    ("exceed_max_filesize", MediaRejected, False),
    ("error_exceed_max_image_size", MediaRejected, False),
    ("error_decode_image", MediaRejected, False),
    ("error_decode_mask", MediaRejected, False),
    ("invalid_parameter", MediaRejected, False),
    ("error_download_video", MediaDownloadFailed, False),
    ("error_download_image", MediaDownloadFailed, False),
    ("error_download_mask", MediaDownloadFailed, False),
    ("error_inference", EngineError, True),
    ("error_upload", EngineError, True),
    ("unknown_internal_error", EngineError, True),
    ("error_invented_next_year", TaskFailed, False),
]


def test_every_engine_code_of_a_failed_task_maps_to_its_error(
    emulator: Emulator, client: YouCamClient, inputs: Inputs
) -> None:
    video_id, image_id = upload_media(client, inputs)
    for code, expected, retryable in ENGINE_OUTCOMES:
        emulator.set_faults(task_error_code=code, task_error_count=1)
        created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
        status = poll_until_final(client, created.task_id)
        assert (status.status, status.error_code, status.result_url) == ("error", code, None)
        with pytest.raises(TaskFailed) as caught:
            status.raise_for_error()
        assert type(caught.value) is expected, code
        assert (caught.value.code, caught.value.retryable) == (code, retryable)
        assert caught.value.message


def test_a_real_face_less_input_fails_as_no_face(
    emulator: Emulator, client: YouCamClient, inputs: Inputs, media: Media
) -> None:
    no_face = media.image(face=False, suffix=".jpg")
    video_id, _ = upload_media(client, inputs)
    with no_face.open("rb") as image:
        image_id = client.upload(image, size=no_face.stat().st_size, content_type="image/jpeg", file_name=no_face.name)
    created = client.create_task(src_file_id=video_id, ref_file_id=image_id, dst_duration=inputs.seconds)
    status = poll_until_final(client, created.task_id)
    with pytest.raises(NoFaceDetected):
        status.raise_for_error()
