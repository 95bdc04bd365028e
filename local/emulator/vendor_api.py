"""The emulated YouCam endpoints: File API, face-swap-vid task run and status, credit and feature cost."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from typing import Any

from local.emulator.clock import Clock
from local.emulator.config import FILE_PATHS, TASK_PATH, EmulatorConfig
from local.emulator.faults import Faults
from local.emulator.limits import Throttled
from local.emulator.routing import ApiError, Request, Response, RouteKind, Router, api_error, json_response
from local.emulator.signing import UrlSigner
from local.emulator.state import (
    CreditInsufficient,
    ExpiryRules,
    FileRecord,
    Store,
    TaskPlan,
    TaskRecord,
    TaskStatus,
    new_file_id,
    new_task_id,
)
from local.emulator.storage import Storage
from local.emulator.validation import FileSpec, parse_file_specs, parse_task_request
from local.emulator.worker import TaskRunner

UPLOAD_PATH = "/_upload/{upload_key}"


def place_result_url(answer: dict[str, Any], url: str, place: str) -> None:
    """Put the result URL where `place` (one of RESULT_URL_PLACES) says: the documented `data.results.url`, or
    one of the readings the vendor's garbled schema allows."""
    data = answer["data"]
    if place == "data.results[0].url":
        data["results"] = [{"url": url}]
    elif place == "data.result_url":
        data["result_url"] = url
    elif place == "url":  # beside data: the schema references the {url} object from the response itself
        answer["url"] = url
    else:
        data["results"] = {"url": url}


class VendorApi:
    def __init__(
        self, config: EmulatorConfig, faults: Faults, store: Store, storage: Storage, signer: UrlSigner,
        runner: TaskRunner, clock: Clock, base_url: Callable[[], str],
    ) -> None:
        self._config = config
        self._faults = faults
        self._store = store
        self._storage = storage
        self._signer = signer
        self._runner = runner
        self._clock = clock
        self._base_url = base_url

    def register(self, router: Router) -> None:
        for path in FILE_PATHS:
            router.add("POST", path, RouteKind.VENDOR, self.create_files)
        router.add("POST", TASK_PATH, RouteKind.VENDOR, self.create_task)
        router.add("GET", TASK_PATH + "/{task_id}", RouteKind.VENDOR, self.task_status)

    # --- File API ----------------------------------------------------------------------------------------
    def create_files(self, request: Request) -> Response:
        if request.path == self._faults.file_path_missing:  # as if this vendor had only the other path
            raise ApiError(404, "Not found")
        specs = parse_file_specs(request.json(), self._config.limits)
        files = [self._declare(spec) for spec in specs]
        return json_response(200, {"status": 200, "data": {"files": files}})

    def _declare(self, spec: FileSpec) -> dict[str, Any]:
        upload_key = secrets.token_hex(16)
        record = FileRecord(new_file_id(), upload_key, spec.content_type, spec.file_name, spec.file_size,
                            self._storage.upload_path(upload_key), self._clock.now())
        self._store.add_file(record)
        expires_at = record.created_at + self._config.upload_url_ttl_seconds
        url = self._signer.sign(self._base_url(), "PUT", UPLOAD_PATH.format(upload_key=upload_key), expires_at)
        length: int | str = spec.file_size if self._config.content_length_header_as_int else str(spec.file_size)
        return {
            "content_type": spec.content_type,
            "file_name": spec.file_name,
            "file_id": record.file_id,
            "requests": [{"method": "PUT", "url": url,
                          "headers": {"Content-Type": spec.content_type, "Content-Length": length}}],
        }

    # --- Task API ----------------------------------------------------------------------------------------
    def create_task(self, request: Request) -> Response:
        parsed = parse_task_request(request.json(), self._store, self._config.limits)
        now = self._clock.now()
        task = TaskRecord(
            task_id=new_task_id(), src=parsed.src, ref=parsed.ref, dst_duration=parsed.dst_duration,
            units=math.ceil(parsed.dst_duration / self._config.limits.seconds_per_unit), plan=self._plan(),
            created_at=now, last_polled_at=now,
        )
        try:
            self._store.create_task(task)
        except Throttled as exc:
            raise ApiError(429, "Too many requests", retry_after_seconds=exc.retry_after_seconds) from exc
        except CreditInsufficient as exc:
            raise ApiError(400, f"Insufficient credit: {exc}", "CreditInsufficiency") from exc
        self._runner.submit(task)
        return json_response(200, {"status": 200, "data": self._with_polling({"task_id": task.task_id})})

    def _plan(self) -> TaskPlan:
        delay = max(self._config.min_processing_seconds, self._faults.processing_delay_seconds)
        return TaskPlan(times_out=self._faults.task_timeout, never_finish=self._faults.never_finish,
                        not_before=time.monotonic() + delay)

    def task_status(self, request: Request) -> Response:
        rules = ExpiryRules(self._config.unpolled_expiry_seconds, self._config.task_id_ttl_seconds)
        task = self._store.poll_task(request.params["task_id"], rules, self._faults.expire_tasks)
        if task is None:
            # The documented InvalidTaskId and TaskTimeout bodies carry no error_code (face-swap-vid OpenAPI,
            # components.responses), unlike the run call's 400s.
            return api_error(400, "Invalid task ID")
        if task.plan.times_out:
            return api_error(500, "Task execution timed out")
        data: dict[str, Any] = {"task_status": str(task.status), "error": task.error,
                                "error_message": task.error_message}
        answer: dict[str, Any] = {"status": 200, "data": self._with_polling(data)}
        if task.status is TaskStatus.SUCCESS:
            place_result_url(answer, str(task.result_url), self._faults.result_url_place)
        return json_response(200, answer)

    def _with_polling(self, data: dict[str, Any]) -> dict[str, Any]:
        interval = self._config.polling_interval_seconds
        if interval is not None:
            data["polling_interval"] = int(interval) if float(interval).is_integer() else interval
        return data
