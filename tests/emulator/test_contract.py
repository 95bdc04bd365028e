"""The emulator's JSON bodies and status codes match the vendor's documented shapes
(the vendor OpenAPI files for the face-swap and File APIs, and its webhook guide)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from local.emulator import Emulator
from tests.emulator.conftest import Media
from tests.emulator.helpers import (
    CREDIT_PATH,
    FEATURE_COST_PATH,
    FILE_PATH,
    GENERIC_FILE_PATH,
    TASK_PATH,
    VendorClient,
    assert_shape,
)

# youcam-api.md §1 "Upload inputs (File API)": response; file_name/content_type echo per the File OpenAPI
# (BasicFileResponse). Content-Length is a string by default (config content_length_header_as_int).
FILE_RESPONSE = {
    "status": 200,
    "data": {"files": [{
        "content_type": "video/mp4",
        "file_name": "clip.mp4",
        "file_id": str,
        "requests": [{"method": "PUT", "url": str, "headers": {"Content-Type": "video/mp4", "Content-Length": "1234"}}],
    }]},
}
# youcam-api.md §2 "Start the task": 400 body / 401 / 429.
INVALID_PARAMETERS = {"status": 400, "error": str, "error_code": "InvalidParameters"}
BAD_REQUEST = {"status": 400, "error": str, "error_code": "BadRequest"}
CREDIT_INSUFFICIENCY = {"status": 400, "error": str, "error_code": "CreditInsufficiency"}
INVALID_API_KEY = {"status": 401, "error": "Invalid API key"}
TOO_MANY_REQUESTS = {"status": 429, "error": "Too many requests"}
# youcam-api.md §2: run response.
TASK_CREATED = {"status": 200, "data": {"task_id": str}}
# youcam-api.md §3 "Poll the task": status body; results only once successful.
STATUS_RUNNING = {"status": 200, "data": {"task_status": "running", "error": None, "error_message": str}}
STATUS_SUCCESS = {"status": 200, "data": {"task_status": "success", "error": None, "error_message": str,
                                          "results": {"url": str}}}
STATUS_ERROR = {"status": 200, "data": {"task_status": "error", "error": "error_no_face", "error_message": str}}
# Face-swap-vid OpenAPI, components.responses InvalidTaskId / TaskTimeout: status and error only, no error_code.
INVALID_TASK_ID = {"status": 400, "error": "Invalid task ID"}
TASK_TIMEOUT = {"status": 500, "error": "Task execution timed out"}
# Unit-system OpenAPI, GET /s2s/v1.0/client/credit: amount (integer) is deprecated for amount_dec (number, two
# decimals); expiry in ms.
CREDIT = {"status": 200, "results": [{"id": int, "type": "ApiPaygToken", "amount": 1000, "amount_dec": 1000.0,
                                      "expiry": int}]}
# Unit-system OpenAPI, GET /s2s/v2.0/credit/feature-cost: amount number, unit "result_image" | "second",
# proc_unit integer; page_size 1..20 (default 20); next_token a string, null on the last page.
SKU = {"description": str, "amount": (int, float), "unit": str, "proc_unit": int, "run_task_url": str}


@pytest.mark.parametrize("path", [FILE_PATH, GENERIC_FILE_PATH])
def test_file_api_response_shape(client: VendorClient, path: str) -> None:
    answer = client.post(path, {"files": [{"content_type": "video/mp4", "file_name": "clip.mp4", "file_size": 1234}]})
    assert answer.status_code == 200
    assert_shape(answer.json(), FILE_RESPONSE)


def test_content_length_header_can_be_a_number(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(content_length_header_as_int=True)
    entry = VendorClient(emulator.base_url, emulator.config.api_key).declare("image/png", "a.png", 99)
    assert entry["requests"][0]["headers"] == {"Content-Type": "image/png", "Content-Length": 99}


@pytest.mark.parametrize(
    "files",
    [
        [],
        [{"content_type": "video/webm", "file_name": "a.webm", "file_size": 10}],
        [{"content_type": "image/gif", "file_name": "a.gif", "file_size": 10}],
        [{"content_type": "video/mp4", "file_name": "a.mp4", "file_size": 100 * 1024 * 1024 + 1}],
        [{"content_type": "image/jpeg", "file_name": "a.jpg", "file_size": 10 * 1024 * 1024 + 1}],
        [{"content_type": "video/mp4", "file_name": "a.mp4", "file_size": 0}],
        [{"content_type": "video/mp4", "file_size": 10}],
    ],
    ids=["empty", "webm", "gif", "video-over-100MB", "image-over-10MB", "zero-size", "no-name"],
)
def test_file_api_rejects_bad_declarations(client: VendorClient, files: list[dict[str, object]]) -> None:
    answer = client.post(FILE_PATH, {"files": files})
    assert answer.status_code == 400
    assert_shape(answer.json(), INVALID_PARAMETERS)


def test_task_lifecycle_shapes(client: VendorClient, emulator: Emulator, media_files: Media) -> None:
    emulator.set_faults(processing_delay_seconds=0.5)
    src = client.upload(media_files.short_face_video)
    ref = client.upload(media_files.reference_jpg)
    created = client.create_task(src_file_id=src, ref_file_id=ref, dst_duration=1)
    assert created.status_code == 200
    assert_shape(created.json(), TASK_CREATED)
    task_id = created.json()["data"]["task_id"]
    running = client.status(task_id)
    assert running.status_code == 200
    assert_shape(running.json(), STATUS_RUNNING)
    assert emulator.wait_for_task(task_id, timeout=30) == "success"
    assert_shape(client.status(task_id).json(), STATUS_SUCCESS)


def test_error_status_shape(client: VendorClient, emulator: Emulator, media_files: Media) -> None:
    task_id = client.start(client.upload(media_files.no_face_video), client.upload(media_files.reference_jpg), 1)
    assert emulator.wait_for_task(task_id, timeout=30) == "error"
    answer = client.status(task_id)
    assert answer.status_code == 200
    assert_shape(answer.json(), STATUS_ERROR)


def test_polling_interval_reported_only_when_configured(
    make_emulator: Callable[..., Emulator], client: VendorClient, emulator: Emulator
) -> None:
    emulator.set_faults(never_finish=True)
    plain = client.create_task(src_file_url="http://127.0.0.1:9/v.mp4", ref_file_url="http://127.0.0.1:9/i.jpg",
                               dst_duration=2)
    assert "polling_interval" not in plain.json()["data"]
    configured = make_emulator(polling_interval_seconds=2)
    configured.set_faults(never_finish=True)
    other = VendorClient(configured.base_url, configured.config.api_key)
    created = other.create_task(src_file_url="http://127.0.0.1:9/v.mp4", ref_file_url="http://127.0.0.1:9/i.jpg",
                                dst_duration=2).json()
    assert_shape(created, {"status": 200, "data": {"task_id": str, "polling_interval": 2}})
    status = other.status(created["data"]["task_id"]).json()
    assert status["data"]["polling_interval"] == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"src_file_url": "http://x/v.mp4", "ref_file_url": "http://x/i.jpg"}, INVALID_PARAMETERS),
        ({"src_file_url": "http://x/v.mp4", "ref_file_url": "http://x/i.jpg", "dst_duration": "3"},
         INVALID_PARAMETERS),
        ({"src_file_url": "http://x/v.mp4", "ref_file_url": "http://x/i.jpg", "dst_duration": 31},
         INVALID_PARAMETERS),
        ({"ref_file_url": "http://x/i.jpg", "dst_duration": 3}, INVALID_PARAMETERS),
        ({"src_file_url": "http://x/v.mp4", "src_file_id": "abc", "ref_file_url": "http://x/i.jpg",
          "dst_duration": 3}, INVALID_PARAMETERS),
        ({"src_file_url": "http://x/v.mp4", "dst_duration": 3}, INVALID_PARAMETERS),
        ({"src_file_url": "http://x/v.mp4", "ref_file_url": "http://x/i.jpg", "ref_file_id": "abc",
          "dst_duration": 3}, INVALID_PARAMETERS),
        ({"src_file_id": "unknown", "ref_file_url": "http://x/i.jpg", "dst_duration": 3}, INVALID_PARAMETERS),
        ({"src_file_url": "ftp://x/v.mp4", "ref_file_url": "http://x/i.jpg", "dst_duration": 3},
         INVALID_PARAMETERS),
        ({"src_file_url": "http://x/v.mp4", "ref_file_url": "http://x/i.jpg", "dst_duration": 3,
          "ref_file_urls": ["http://x/i.jpg"]}, BAD_REQUEST),
        ([1, 2], BAD_REQUEST),
    ],
    ids=["no-duration", "string-duration", "duration-over-30", "no-src", "both-src", "no-ref", "both-ref",
         "unknown-file-id", "ftp-url", "unexpected-field", "not-an-object"],
)
def test_task_create_rejections(client: VendorClient, emulator: Emulator, body: object,
                                expected: dict[str, object]) -> None:
    answer = client.post(TASK_PATH, body)
    assert answer.status_code == 400
    assert_shape(answer.json(), expected)
    assert emulator.stats()["tasks_created"] == 0


def test_file_ids_must_match_their_role(client: VendorClient, media_files: Media) -> None:
    video = client.upload(media_files.short_face_video)
    image = client.upload(media_files.reference_jpg)
    answer = client.create_task(src_file_id=image, ref_file_id=video, dst_duration=1)
    assert answer.status_code == 400
    assert_shape(answer.json(), INVALID_PARAMETERS)


def test_invalid_json_is_bad_request(client: VendorClient) -> None:
    answer = client.session.post(client.base_url + TASK_PATH, data=b"{not json",
                                 headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert_shape(answer.json(), BAD_REQUEST)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "emulator-key", "Basic emulator-key"])
def test_bad_api_key_is_401(emulator: Emulator, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for path in (CREDIT_PATH, f"{TASK_PATH}/some-task"):
        answer = requests.get(emulator.base_url + path, headers=headers, timeout=5)
        assert answer.status_code == 401
        assert_shape(answer.json(), INVALID_API_KEY)


def test_429_shape(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(rate_429=1.0)
    answer = client.get(CREDIT_PATH)
    assert answer.status_code == 429
    assert_shape(answer.json(), TOO_MANY_REQUESTS)


def test_unknown_task_id(client: VendorClient) -> None:
    answer = client.status("no-such-task")
    assert answer.status_code == 400
    assert_shape(answer.json(), INVALID_TASK_ID)


def test_task_timeout_shape(client: VendorClient, emulator: Emulator) -> None:
    emulator.set_faults(task_timeout=True)
    created = client.create_task(src_file_url="http://127.0.0.1:9/v.mp4", ref_file_url="http://127.0.0.1:9/i.jpg",
                                 dst_duration=3)
    answer = client.status(created.json()["data"]["task_id"])
    assert answer.status_code == 500
    assert_shape(answer.json(), TASK_TIMEOUT)


def test_credit_shape(client: VendorClient) -> None:
    answer = client.get(CREDIT_PATH)
    assert answer.status_code == 200
    assert_shape(answer.json(), CREDIT)
    entry = answer.json()["results"][0]
    assert entry["expiry"] > time.time() * 1000  # milliseconds, in the future


def test_credit_amount_dec_has_two_decimals_and_amount_is_its_whole_part(
    client: VendorClient, emulator: Emulator
) -> None:
    emulator.set_faults(credit_units=10.04)  # the documented example
    entry = client.get(CREDIT_PATH).json()["results"][0]
    assert (entry["amount"], entry["amount_dec"]) == (10, 10.04)
    emulator.set_faults(never_finish=True)
    assert client.create_task(src_file_url="http://127.0.0.1:9/v.mp4", ref_file_url="http://127.0.0.1:9/i.jpg",
                              dst_duration=10).status_code == 200
    entry = client.get(CREDIT_PATH).json()["results"][0]
    assert (entry["amount"], entry["amount_dec"]) == (8, 8.04)


def test_credit_legacy_answer_and_extra_entries(client: VendorClient, emulator: Emulator) -> None:
    other = {"id": 7, "type": "WebSubsToken", "amount": 5, "amount_dec": 5.5, "expiry": 0}
    emulator.set_faults(credit_units=3, credit_legacy_amount=True, credit_extra_entries=[other])
    results = client.get(CREDIT_PATH).json()["results"]
    assert_shape(results, [{"id": int, "type": "ApiPaygToken", "amount": 3, "expiry": int}, other])


def test_feature_cost_pages(client: VendorClient) -> None:
    first = client.get(FEATURE_COST_PATH, params={"page_size": 2}).json()
    assert_shape(first, {"status": 200, "result": {"skus": [SKU, SKU], "next_token": "Mg"}})  # base64("2")
    second = client.get(FEATURE_COST_PATH, params={"page_size": 2, "starting_token": first["result"]["next_token"]})
    assert_shape(second.json(), {"status": 200, "result": {"skus": [SKU], "next_token": None}})
    everything = first["result"]["skus"] + second.json()["result"]["skus"]
    assert {s["unit"] for s in everything} <= {"result_image", "second"}
    face_swap = [s for s in everything if s["run_task_url"].endswith(TASK_PATH)]
    assert face_swap == [{"description": "AI Video Face Swap", "amount": 1, "unit": "second", "proc_unit": 5,
                          "run_task_url": client.base_url + TASK_PATH}]
    whole = client.get(FEATURE_COST_PATH).json()["result"]  # default page size 20
    assert (whole["skus"], whole["next_token"]) == (everything, None)


@pytest.mark.parametrize("query", [{"page_size": 21}, {"page_size": 0}, {"page_size": "x"},
                                   {"starting_token": "%%%"}])
def test_feature_cost_rejects_bad_paging(client: VendorClient, query: dict[str, object]) -> None:
    answer = client.get(FEATURE_COST_PATH, params=query)
    assert answer.status_code == 400
    assert_shape(answer.json(), INVALID_PARAMETERS)


@pytest.mark.parametrize("missing", [FILE_PATH, GENERIC_FILE_PATH])
def test_one_file_api_path_can_be_missing(client: VendorClient, emulator: Emulator, missing: str) -> None:
    emulator.set_faults(file_path_missing=missing)
    body = {"files": [{"content_type": "video/mp4", "file_name": "clip.mp4", "file_size": 1234}]}
    refused = client.post(missing, body)
    assert refused.status_code == 404
    assert_shape(refused.json(), {"status": 404, "error": "Not found"})
    other = GENERIC_FILE_PATH if missing == FILE_PATH else FILE_PATH
    assert_shape(client.post(other, body).json(), FILE_RESPONSE)
    assert emulator.stats()["files_created"] == 1


def test_unknown_path_and_method(client: VendorClient) -> None:
    assert client.get("/s2s/v2.0/nothing").status_code == 404
    assert client.session.delete(client.base_url + TASK_PATH, timeout=5).status_code == 405
