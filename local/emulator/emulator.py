"""The Emulator: wires state, worker, webhooks and HTTP routes together and runs them on loopback."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from local.emulator.blobs import BlobEndpoints
from local.emulator.clock import AdjustableClock, Clock
from local.emulator.config import EmulatorConfig
from local.emulator.control import ControlEndpoints
from local.emulator.credit import CreditEndpoints
from local.emulator.faults import Dice, Faults, apply_faults, reset_faults
from local.emulator.metrics import RequestMetrics
from local.emulator.routing import Router
from local.emulator.scheduler import Scheduler
from local.emulator.server import Dispatcher, EmulatorHttpServer
from local.emulator.signing import UrlSigner
from local.emulator.state import Store
from local.emulator.storage import Storage
from local.emulator.vendor_api import VendorApi
from local.emulator.webhooks import WebhookSender
from local.emulator.worker import TaskRunner


class Emulator:
    """A local YouCam AI Video Face Swap API. Use as a context manager, or call start() and stop()."""

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0,
                 clock: Clock | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock or AdjustableClock()
        self.faults = Faults(credit_units=self.config.credit_units)
        self._address = (host, port)
        self._server: EmulatorHttpServer | None = None
        self._closed = False
        self._dice = Dice(self.config.seed)
        self._metrics = RequestMetrics()
        self._store = Store(self.faults, self.clock)
        self._storage = Storage(self.config.storage_dir)
        self._signer = UrlSigner()
        self._scheduler = Scheduler()
        self._webhooks = WebhookSender(self.config, self.faults, self._scheduler)
        self._runner = TaskRunner(self.config, self._store, self._storage, self._scheduler, self._webhooks,
                                  self._signer, self.clock, lambda: self.base_url)
        self._router = Router()
        VendorApi(self.config, self.faults, self._store, self._storage, self._signer, self._runner, self.clock,
                  lambda: self.base_url).register(self._router)
        CreditEndpoints(self.faults, self.clock, lambda: self.base_url).register(self._router)
        BlobEndpoints(self._store, self._storage, self._signer, self.clock).register(self._router)
        ControlEndpoints(self).register(self._router)

    # --- lifecycle ---------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Emulator:
        """Bind and serve in background threads. An emulator runs once: after stop(), make a new one."""
        if self._closed:
            raise RuntimeError("a stopped emulator cannot be restarted")
        if self._server is not None:
            return self
        dispatcher = Dispatcher(self._router, self.faults, self._dice, self._metrics, self.config.api_key)
        self._server = EmulatorHttpServer(self._address, dispatcher)
        self._scheduler.start()
        self._server.serve_in_background()
        return self

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._scheduler.stop()
        self._runner.stop()
        self._webhooks.stop()
        self._storage.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    # --- control -----------------------------------------------------------------------------------------
    def set_faults(self, **changes: Any) -> None:
        """Change fault switches (validated first; unknown names raise ValueError).

        expire_tasks=True also expires every existing task at once; credit_units sets the balance.
        """
        apply_faults(self.faults, changes)
        if changes.get("expire_tasks"):
            self._store.expire_all()

    def faults_dict(self) -> dict[str, Any]:
        return self.faults.to_dict()

    def add_webhook_url(self, url: str) -> None:
        self._webhooks.add_url(url)

    def expire_task(self, task_id: str) -> None:
        self._store.expire(task_id)

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's clock ahead (URL, task and task-id expiry, the create-rate bucket); returns the
        total offset from the wall clock. Processing and webhook delays are not affected."""
        self.clock.advance(seconds)
        return self.clock_offset()

    def clock_offset(self) -> float:
        return self.clock.offset_seconds

    def reset(self) -> None:
        """Forget files, tasks, charges, counters and deliveries; faults back to defaults. Webhook URLs stay."""
        self._scheduler.clear()
        self._store.clear()
        self._webhooks.clear()
        self._metrics.clear()
        reset_faults(self.faults, self.config.credit_units)
        self._dice.reseed()
        self._storage.clear()

    # --- inspection --------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        return {
            **self._store.snapshot(),
            **self._metrics.snapshot(),
            "webhook_urls": self._webhooks.urls,
            "webhook_deliveries": self._webhooks.deliveries(),
            "webhooks_dropped": self._webhooks.dropped(),
            "faults": self.faults.to_dict(),
        }

    def wait_for_task(self, task_id: str, timeout: float) -> str:
        """Block until the task is final ("success" or "error"); TimeoutError otherwise. Does not count as
        a poll, so it neither keeps the task alive nor shows up in the request counters."""
        return str(self._store.wait_until_final(task_id, timeout))

    def wait_for_webhooks(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """Block until `count` webhook deliveries were attempted (or timeout); returns all deliveries."""
        return self._webhooks.wait_for(count, timeout)

    def result_file(self, task_id: str) -> str:
        """Where the emulator keeps a task's result video (for tests that inspect it without HTTP)."""
        return str(self._storage.result_path(task_id))

