"""moto 5.2.5's SQS queues as SQS runs them: on the stack's clock, one operation at a time per backend.

Time runs on the queues' own scale (`set_time_scale`; LocalStack sets it from `queue_time_scale`, by default the
stack's `time_scale`):
- `DelaySeconds` (of a message, or the queue's default): `Message.delay`;
- visibility timeouts (the queue's `VisibilityTimeout`, ReceiveMessage's, ChangeMessageVisibility's):
  `Message.change_visibility`;
- a long poll's `WaitTimeSeconds` (or the queue's `ReceiveMessageWaitTimeSeconds`): `SQSBackend.receive_message`.
At time_scale 0.05 a 60 s delay lasts 3 s, a 30 s visibility timeout 1.5 s, a 20 s long poll 1 s. The API shows
the declared values, and timestamps (SentTimestamp...) stay real epoch times. Not scaled: MessageRetentionPeriod
(4 days by default, never reached by a local run) and the 5-minute FIFO deduplication window.

Atomic operations: moto serves each request in its own thread and changes a queue's message list without a lock
(a delete rebuilds the list while a receive moves another message to the dead-letter queue: one is lost or
duplicated). Send, receive, delete and visibility changes hold one lock; a long poll waits between its passes
outside it, until a send or until the next delayed or invisible message shows.

Dead-letter redrive is moto's, which is SQS's: a receive that finds a visible message already received
`maxReceiveCount` times moves it to the dead-letter queue instead of returning it, so a message is delivered at
most maxReceiveCount times, and moves once it is visible again after its last visibility timeout.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.core.utils import unix_time_millis
from moto.sqs.models import Message, SQSBackend

from local.aws.patches import Patches

ATOMIC = ("send_message", "delete_message", "change_message_visibility")
_MIN_TICK, _MAX_TICK = 0.005, 1.0  # real seconds between a long poll's passes
_lock = threading.RLock()
_patches = Patches()
_scale = 1.0


def set_time_scale(scale: float) -> None:
    """1.0 = real time. The pipeline runs SQS in real time: the delays its start function asks for come from real
    measurements (slot hold times, Retry-After), like the Lambda run times and timeouts they relate to."""
    global _scale
    if scale <= 0:
        raise ValueError("time scale must be positive")
    _scale = scale


def scaled(seconds: float) -> float:
    return seconds * _scale


def time_scale() -> float:
    """The queues' scale: what a declared SQS duration (a delay, WaitTimeSeconds) lasts per second."""
    return _scale


def install() -> None:
    """Idempotent; `uninstall()` restores moto."""
    if _patches.applied:
        return
    _patches.apply(Message, "delay", _delay)
    _patches.apply(Message, "change_visibility", _change_visibility)
    _patches.apply(SQSBackend, "receive_message", _receive_message)
    for name in ATOMIC:
        _patches.apply(SQSBackend, name, _atomic(getattr(SQSBackend, name)))


def uninstall() -> None:
    _patches.undo()


def _delay(self: Message, delay_seconds: int) -> None:
    self.delayed_until = unix_time_millis() + scaled(int(delay_seconds)) * 1000


def _change_visibility(self: Message, visibility_timeout: int) -> None:
    self.visible_at = unix_time_millis() + scaled(int(visibility_timeout)) * 1000


def _atomic(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(self, *args, **kwargs)

    return locked


def _receive_message(self: SQSBackend, queue_name: str, count: int, wait_seconds_timeout: int,
                     visibility_timeout: int, message_attribute_names: list[str] | None = None) -> list[Message]:
    """moto's receive, one pass at a time under the lock (wait 0), repeated until the scaled wait is over.

    A message is hidden for the queue's visibility timeout as it is when the message is received, as SQS does; moto
    reads it when the long poll starts (a receive without its own VisibilityTimeout gets the queue's, so a value
    equal to the queue's at the start is taken as "the queue's")."""
    receive = _patches.original(SQSBackend, "receive_message")
    queue: Any = self.get_queue(queue_name)  # moto sets its attributes dynamically
    queues_own = int(visibility_timeout) == int(queue.visibility_timeout)
    deadline = time.monotonic() + scaled(int(wait_seconds_timeout))
    while True:
        with _lock:
            hidden_for = int(queue.visibility_timeout) if queues_own else visibility_timeout
            messages: list[Message] = receive(self, queue_name, count, 0, hidden_for, message_attribute_names)
        remaining = deadline - time.monotonic()
        if messages or remaining <= 0:
            return messages
        with queue._messages_lock:  # notified by every send to this queue
            queue._messages_lock.wait(min(remaining, _until_one_shows(queue)))


def _until_one_shows(queue: Any) -> float:
    """Seconds until the next delayed or invisible message of the queue shows (at least _MIN_TICK, at most
    _MAX_TICK: a FIFO group freed by a delete notifies nobody)."""
    now = unix_time_millis()
    upcoming = [ready for m in list(queue._messages) if (ready := max(m.visible_at, m.delayed_until)) > now]
    return min(_MAX_TICK, max(_MIN_TICK, (min(upcoming) - now) / 1000 if upcoming else _MAX_TICK))
