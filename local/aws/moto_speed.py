"""Two per-request costs of moto's server taken out (moto 5.2.5 internals); what moto answers does not change.

- `moto.backends.list_of_moto_modules`: the server's dispatcher lists moto's package directory (an `isdir` per
  service, ~150) for every request, under the one lock that every request takes (`DomainDispatcherApplication`):
  the listing of an installed package does not change, so it is read once.
- `boto_client_for` (Step Functions' interpreter): a new boto3 client for every Lambda invoke and SDK integration
  (client creation costs more CPU than the call). Its arguments never vary beyond (region, service): it ignores
  the state's credentials and always signs with the same fake keys against this server. One client per
  (region, service, endpoint) is reused: boto3 clients are thread-safe.
On two cores the local stack is bound by the server's CPU, so the bench's burst (hundreds of jobs at once) measures
the harness rather than the pipeline without these.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from moto import backends
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import boto_client

from local.aws.patches import Patches
from local.aws.sfn_integrations import SERVICE_TASKS

# The interpreter's modules that import `boto_client_for` by name: Lambda's and the service integrations'.
CLIENT_USERS = (lambda_eval_utils, *(sys.modules[task.__module__] for task in SERVICE_TASKS))
_patches = Patches()
_clients: dict[tuple[str, str, str], Any] = {}
_clients_lock = threading.Lock()


def install() -> None:
    """Idempotent; `uninstall()` restores moto."""
    if _patches.applied:
        return
    listed = tuple(backends.list_of_moto_modules())
    _patches.apply(backends, "list_of_moto_modules", lambda: listed)
    for module in CLIENT_USERS:
        _patches.apply(module, "boto_client_for", _shared_client)


def uninstall() -> None:
    _patches.undo()
    with _clients_lock:
        _clients.clear()


def _shared_client(region: str, service: str, state_credentials: Any = None) -> Any:
    key = (region, service, moto_server_port())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = boto_client.boto_client_for(region, service, state_credentials)
        return client
