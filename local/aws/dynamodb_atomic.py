"""Single-item writes atomic, as DynamoDB makes them: moto 5.2.5 handles each request in its own thread and
reads an item's old image (`ReturnValues=ALL_OLD`) and checks its condition outside any lock, so two writes to one
item can interleave (each then misses the other). The pipeline relies on that atomicity: the task token and the
webhook meet on one item (faceswap.callbacks), and a job is claimed by a conditional put. This serializes moto's
DynamoDB item handlers, the reads too: a read serializes the item while a write may change it in place (under load a
BatchGetItem failed with "dictionary changed size during iteration").
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler

from local.aws.patches import Patches

WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")
READS = ("get_item", "batch_get_item", "query", "scan", "transact_get_items")
_lock = threading.Lock()
_patches = Patches()


def install() -> None:
    """Idempotent; `uninstall()` restores moto."""
    if _patches.applied:
        return
    for name in WRITES + READS:
        _patches.apply(DynamoHandler, name, _serialized(getattr(DynamoHandler, name)))


def uninstall() -> None:
    _patches.undo()


def _serialized(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def one_at_a_time(self: DynamoHandler) -> Any:
        with _lock:
            return handler(self)

    return one_at_a_time
