"""The documented response and error shapes (youcam-api.md, the vendor's OpenAPI) parse into typed values."""

from __future__ import annotations

from typing import Any

import pytest

from faceswap.youcam import (
    ContentRejected,
    CreatedTask,
    EngineError,
    InsufficientCredit,
    InvalidApiKey,
    InvalidParameters,
    InvalidTaskId,
    MediaDownloadFailed,
    MediaRejected,
    NoFaceDetected,
    RateLimited,
    ServerError,
    TaskFailed,
    TaskStatus,
    TaskTimedOut,
    UnexpectedResponse,
    UploadTicket,
    YouCamError,
    parse_polling_interval,
    task_error_from_code,
)
from faceswap.youcam.errors import error_from_payload

ENGINE_CODES = {
    "error_no_face": NoFaceDetected,
    "error_pose": NoFaceDetected,
    "error_face_parsing": NoFaceDetected,
    "error_nsfw_content_detected": ContentRejected,
    "exceed_nsfw_retry_limits": ContentRejected,
    "error_decode_video": MediaRejected,
    "error_unsupported_video": MediaRejected,
    "exceed_max_filesize": MediaRejected,
    "error_exceed_max_image_size": MediaRejected,
    "error_decode_image": MediaRejected,
    "error_decode_mask": MediaRejected,
    "invalid_parameter": MediaRejected,
    "error_download_video": MediaDownloadFailed,
    "error_download_image": MediaDownloadFailed,
    "error_download_mask": MediaDownloadFailed,
    "error_inference": EngineError,
    "error_upload": EngineError,
    "unknown_internal_error": EngineError,
}
RETRYABLE_ENGINE_CLASSES = {EngineError}


@pytest.mark.parametrize(("code", "expected"), sorted(ENGINE_CODES.items()))
def test_every_documented_engine_code_has_its_class(code: str, expected: type[TaskFailed]) -> None:
    error = task_error_from_code(code, "details")
    assert type(error) is expected
    assert (error.code, error.message) == (code, "details")
    assert error.retryable is (expected in RETRYABLE_ENGINE_CLASSES)
    assert error.what_to_fix and error.to_dict()["error_class"] == expected.__name__


@pytest.mark.parametrize("code", ["error_brand_new", None, ""])
def test_unknown_engine_codes_are_final_task_failures_that_keep_the_code(code: str | None) -> None:
    error = task_error_from_code(code, "")
    assert type(error) is TaskFailed and not error.retryable
    assert error.code == (code or "unknown_engine_error")


@pytest.mark.parametrize(
    ("status", "payload", "method", "expected", "retryable"),
    [
        (401, {"status": 401, "error": "Invalid API key"}, "POST", InvalidApiKey, False),
        (400, {"error": "bad", "error_code": "InvalidParameters"}, "POST", InvalidParameters, False),
        (400, {"error": "bad", "error_code": "BadRequest"}, "POST", InvalidParameters, False),
        (400, {"error": "bad", "error_code": "InvalidStyleGroup"}, "POST", InvalidParameters, False),
        (400, {"error": "bad", "error_code": "InvalidStyle"}, "POST", InvalidParameters, False),
        (400, {"error": "no units", "error_code": "CreditInsufficiency"}, "POST", InsufficientCredit, False),
        (400, {"status": 400, "error": "Invalid task ID"}, "GET", InvalidTaskId, False),
        (400, {"status": 400, "error": "whatever"}, "GET", InvalidTaskId, False),
        (400, {"error": "x", "error_code": "InvalidTaskId"}, "GET", InvalidTaskId, False),
        (429, {"status": 429, "error": "Too many requests"}, "POST", RateLimited, True),
        (500, {"status": 500, "error": "Task execution timed out"}, "GET", TaskTimedOut, False),
        (500, {"error": "x", "error_code": "TaskTimeout"}, "GET", TaskTimedOut, False),
        (503, {"status": 503, "error": "Service Unavailable"}, "GET", ServerError, True),
        (502, {}, "POST", ServerError, True),
        (404, {"error": "Not found"}, "GET", YouCamError, False),
    ],
)
def test_vendor_error_bodies_map_to_typed_errors(
    status: int, payload: dict[str, Any], method: str, expected: type[YouCamError], retryable: bool
) -> None:
    error = error_from_payload(status, payload, method=method)
    assert type(error) is expected
    assert error.http_status == status and error.retryable is retryable
    assert error.message == (payload.get("error") or f"HTTP {status}")


@pytest.mark.parametrize(
    ("value", "unit", "seconds"),
    [
        (5, "auto", 5.0),
        (2.5, "auto", 2.5),
        ("7", "auto", 7.0),
        (300, "auto", 300.0),
        (5000, "auto", 5.0),
        (1500, "ms", 1.5),
        (10, "ms", 0.01),
        (600, "s", 600.0),
        (None, "auto", None),
        (0, "auto", None),
        (-3, "s", None),
        ("soon", "auto", None),
        (True, "auto", None),
        (float("nan"), "auto", None),
        ({"s": 5}, "auto", None),
    ],
)
def test_polling_interval_units(value: Any, unit: str, seconds: float | None) -> None:
    assert parse_polling_interval(value, unit) == seconds


def test_an_unknown_polling_interval_unit_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        parse_polling_interval(5, "minutes")


def test_documented_upload_ticket() -> None:
    body = {
        "status": 200,
        "data": {
            "files": [
                {
                    "file_id": "pfNK5+KoBIxbE=",
                    "requests": [
                        {
                            "method": "PUT",
                            "url": "https://s3.example/obj?sig=1",
                            "headers": {"Content-Type": "video/mp4", "Content-Length": 123},
                        }
                    ],
                }
            ]
        },
    }
    ticket = UploadTicket.from_api(body)
    assert ticket == UploadTicket(
        "pfNK5+KoBIxbE=",
        "https://s3.example/obj?sig=1",
        {"Content-Type": "video/mp4", "Content-Length": "123"},
    )


def test_created_task_with_and_without_polling_interval() -> None:
    assert CreatedTask.from_api({"status": 200, "data": {"task_id": "t1"}}) == CreatedTask("t1", None)
    with_interval = {"data": {"task_id": "t1", "polling_interval": 3000}}
    assert CreatedTask.from_api(with_interval).polling_interval_seconds == 3.0
    assert CreatedTask.from_api(with_interval, polling_interval_unit="s").polling_interval_seconds == 3000.0


def test_task_status_states() -> None:
    running = TaskStatus.from_api("t", {"data": {"task_status": "running", "error": None, "results": None}})
    assert (running.status, running.is_final, running.succeeded) == ("running", False, False)
    running.raise_for_error()  # not final: nothing to raise

    done = TaskStatus.from_api("t", {"data": {"task_status": "success", "results": {"url": "https://r/v.mp4"}}})
    assert (done.is_final, done.succeeded, done.result_url) == (True, True, "https://r/v.mp4")
    done.raise_for_error()

    failed = TaskStatus.from_api(
        "t", {"data": {"task_status": "error", "error": "error_no_face", "error_message": "no face"}}
    )
    assert (failed.is_final, failed.succeeded, failed.error_code) == (True, False, "error_no_face")
    with pytest.raises(NoFaceDetected, match="no face"):
        failed.raise_for_error()


def test_undocumented_in_between_states_mean_keep_polling() -> None:
    queued = TaskStatus.from_api("t", {"data": {"task_status": "queued"}})
    assert queued.status == "running" and not queued.is_final


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"status": 200},
        {"data": []},
        {"data": {"error": None}},
        {"data": {"task_status": "success", "results": {}}},
    ],
)
def test_a_status_answer_of_the_wrong_shape_is_unexpected(body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        TaskStatus.from_api("t", body)
