"""Runs tasks in the background: fetch inputs, swap faces, then publish the final state no earlier than the
task's planned time and announce it by webhook."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from local.emulator.clock import Clock
from local.emulator.config import EmulatorConfig
from local.emulator.engine_errors import EngineError, describe
from local.emulator.inputs import IMAGE, VIDEO, InputFetcher
from local.emulator.processing import swap_faces
from local.emulator.scheduler import Scheduler
from local.emulator.signing import UrlSigner
from local.emulator.state import Store, TaskRecord, TaskStatus
from local.emulator.storage import Storage
from local.emulator.webhooks import WebhookSender

log = logging.getLogger(__name__)

Outcome = dict[str, Any]


def result_path_template(task_id: str) -> str:
    return f"/_results/{task_id}.mp4"


class TaskRunner:
    def __init__(
        self,
        config: EmulatorConfig,
        store: Store,
        storage: Storage,
        scheduler: Scheduler,
        webhooks: WebhookSender,
        signer: UrlSigner,
        clock: Clock,
        base_url: Callable[[], str],
    ) -> None:
        self._config = config
        self._store = store
        self._storage = storage
        self._scheduler = scheduler
        self._webhooks = webhooks
        self._signer = signer
        self._clock = clock
        self._base_url = base_url
        self._fetcher = InputFetcher(store, config.limits)
        self._pool = ThreadPoolExecutor(max_workers=max(1, config.worker_threads), thread_name_prefix="emulator-task")

    def submit(self, task: TaskRecord) -> None:
        if task.plan.never_finish or task.plan.times_out:
            return  # stays "running" (or answers TaskTimeout) for good
        self._pool.submit(self._run, task)

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, task: TaskRecord) -> None:
        started = time.monotonic()
        outcome = self._outcome(task)
        log.info("task %s processed in %.2f s: %s", task.task_id[:8], time.monotonic() - started, outcome["status"])
        self._scheduler.call_at(task.plan.not_before, lambda: self._finish(task.task_id, outcome))

    def _outcome(self, task: TaskRecord) -> Outcome:
        if task.plan.forced_error:
            return _error(task.plan.forced_error, describe(task.plan.forced_error))
        workdir = self._storage.workdir(task.task_id)
        try:
            return self._process(task, workdir)
        except EngineError as exc:
            return _error(exc.code, exc.message)
        except Exception:
            log.exception("task %s failed unexpectedly", task.task_id)
            return _error("unknown_internal_error", describe("unknown_internal_error"))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _process(self, task: TaskRecord, workdir: Path) -> Outcome:
        video = self._fetcher.fetch(task.src, VIDEO, workdir, "source-video")
        image = self._fetcher.fetch(task.ref, IMAGE, workdir, "reference-image")
        result = self._storage.result_path(task.task_id)
        scratch = workdir / "result.mp4"
        report = swap_faces(video, image, scratch, self._config.limits, self._config.detect_every_frames)
        os.replace(scratch, result)
        return {"status": TaskStatus.SUCCESS, "result_path": result, "details": dataclasses.asdict(report)}

    def _finish(self, task_id: str, outcome: Outcome) -> None:
        if outcome["status"] is TaskStatus.SUCCESS:
            expires_at = self._clock.now() + self._config.result_url_ttl_seconds
            outcome = {**outcome, "result_url": self._signer.sign(
                self._base_url(), "GET", result_path_template(task_id), expires_at)}
        task = self._store.finish_task(task_id, **outcome)
        if task is not None:
            self._webhooks.task_finished(task)


def _error(code: str, message: str) -> Outcome:
    return {"status": TaskStatus.ERROR, "error": code, "error_message": message}
