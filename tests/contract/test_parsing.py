"""The documented response and error shapes (youcam-api.md, the vendor's OpenAPI) parse into typed values."""

from __future__ import annotations

import io
from typing import Any

import pytest

from faceswap.config import VendorSettings
from faceswap.youcam import (
    ContentRejected,
    CreatedTask,
    CreditBalance,
    EndpointNotFound,
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
from faceswap.youcam.content_types import declared_content_type
from faceswap.youcam.errors import error_from_payload
from faceswap.youcam.result_url import find_result_url
from faceswap.youcam.streaming import HeadFirst, read_head

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
        (404, {"error": "Not found"}, "GET", EndpointNotFound, False),
        (409, {"error": "Conflict"}, "GET", YouCamError, False),
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


URL = "https://r.example/v.mp4?sig=1"


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"task_status": "success", "results": {"url": URL}}},  # documented
        {"data": {"task_status": "success", "results": [{"url": URL}]}},
        {"data": {"task_status": "success", "results": [{"urls": [URL]}]}},
        {"data": {"task_status": "success", "results": {"video": {"url": URL}}}},
        {"data": {"task_status": "success", "results": URL}},
        {"data": {"task_status": "success", "result_url": URL}},
        {"data": {"task_status": "success", "output": {"video_url": URL}}},
        {"status": 200, "url": URL, "data": {"task_status": "success", "results": None}},  # the garbled schema
        {"status": 200, "results": {"url": URL}, "data": {"task_status": "success"}},
    ],
)
def test_the_result_url_is_found_wherever_it_sits(body: dict[str, Any]) -> None:
    assert TaskStatus.from_api("t", body).result_url == URL


def test_the_documented_place_wins_and_only_http_urls_count() -> None:
    body = {"url": "https://top/level", "data": {"task_status": "success", "download_url": "https://late/key",
                                                 "results": {"note": "ftp://no", "id": 7, "url": URL}}}
    assert find_result_url(body) == URL
    assert find_result_url({"data": {"results": {"url": "s3://bucket/key"}}}) is None
    assert find_result_url({"data": {"results": [[[[[URL]]]]]}}) is None  # deeper than anyone nests it
    assert find_result_url(None) is None


def test_a_running_answer_keeps_no_url() -> None:
    assert TaskStatus.from_api("t", {"data": {"task_status": "running", "results": {"url": URL}}}).result_url is None


MP4_HEAD = b"\x00\x00\x00\x18ftypisom"
MOV_HEAD = b"\x00\x00\x00\x14ftypqt  "


@pytest.mark.parametrize(
    ("head", "name", "hint", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "face.png", "image/png", "image/jpeg"),  # bytes beat name and hint
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\r", "face.jpg", "image/jpeg", "image/png"),
        (MP4_HEAD, "clip.mov", "video/quicktime", "video/mp4"),
        (MOV_HEAD, "clip.mp4", None, "MOV"),
        (b"\x00\x00\x00\x08wide\x00\x00", "old.mov", None, "MOV"),  # classic QuickTime: no ftyp
        (b"garbage.....", "clip.mov", None, "MOV"),  # nothing in the bytes: the name
        (b"garbage.....", "clip", "video/quicktime", "MOV"),
        (b"garbage.....", "clip.mp4", None, "video/mp4"),
        (b"garbage.....", "notes.txt", None, "application/octet-stream"),
        (b"", "face.JPG", None, "image/jpeg"),
    ],
)
def test_declared_content_type(head: bytes, name: str, hint: str | None, expected: str) -> None:
    for mov in ("video/mp4", "video/quicktime"):
        want = mov if expected == "MOV" else expected
        assert declared_content_type(head, name, mov_content_type=mov, hint=hint) == want


def test_the_mov_content_type_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOUCAM_MOV_CONTENT_TYPE", raising=False)
    assert VendorSettings.from_env().mov_content_type == "video/mp4"
    monkeypatch.setenv("YOUCAM_MOV_CONTENT_TYPE", "video/quicktime")
    assert VendorSettings.from_env().mov_content_type == "video/quicktime"


def test_read_head_and_head_first_give_back_every_byte() -> None:
    class Trickle(io.BytesIO):  # returns at most 5 bytes a read, like a slow socket
        def read(self, size: int | None = -1, /) -> bytes:
            return super().read(5 if size is None or size < 0 else min(size, 5))

    source = Trickle(bytes(range(40)))
    head = read_head(source, 12)
    assert head == bytes(range(12))
    stream = HeadFirst(head, source)
    parts = [stream.read(3), stream.read(100), *iter(lambda: stream.read(7) or b"", b"")]
    assert b"".join(part or b"" for part in parts) == bytes(range(40))
    assert read_head(io.BytesIO(b"abc"), 12) == b"abc"


@pytest.mark.parametrize(
    ("entry", "units"),
    [
        ({"type": "ApiPaygToken", "amount": 10, "amount_dec": 10.04}, 10.04),
        ({"type": "ApiPaygToken", "amount": 10}, 10.0),
        ({"type": "ApiPaygToken", "amount": 10, "amount_dec": "10.04"}, 10.04),
        ({"type": "ApiPaygToken", "amount": 10, "amount_dec": None}, 10.0),
        ({"type": "ApiPaygToken", "amount": 10, "amount_dec": True}, 10.0),
    ],
)
def test_credit_entries_read_amount_dec_first(entry: dict[str, Any], units: float) -> None:
    assert CreditBalance.from_api({"status": 200, "results": [entry]}).entries[0].units == units


@pytest.mark.parametrize("body", [{}, {"results": {}}, {"results": [1]}, {"results": [{"type": "Api"}]},
                                  {"results": [{"type": "Api", "amount_dec": "many"}]}])
def test_a_credit_answer_of_the_wrong_shape_is_unexpected(body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        CreditBalance.from_api(body)


def test_spendable_units_are_the_api_entries() -> None:
    body = {"results": [{"type": "ApiSubsToken", "amount_dec": 1.1}, {"type": "ApiPaygToken", "amount_dec": 2.2},
                        {"type": "Gift", "amount_dec": 50}]}
    assert CreditBalance.from_api(body).spendable_units == 3.3
