"""Scale the real-time waits of moto's Step Functions interpreter (moto 5.2.5 internals).

The interpreter waits in real time in five places; each is patched to wait `seconds * scale` instead:
- Wait states (`Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`): `WaitFunction._wait_interval`;
- Task `TimeoutSeconds`/`TimeoutSecondsPath` of a callback (`.waitForTaskToken`, `.sync`): `ExecutionState.
  _evaluate_with_timeout` waits on a `threading.Event` of module `execute_state`. The timeout of any other task
  (a Lambda function, an AWS call) stays in real time, like the function or call it guards: a 25 s timeout around a
  check that takes 1.5 s here (a cold start) must not become 1.25 s;
- `waitForTaskToken` timeouts and `HeartbeatSeconds`: the `Event`s of module `eval.callback.callback`;
- the state machine's top-level `TimeoutSeconds`: `Program.eval` joins its worker thread with that timeout;
- `Retry` intervals (`IntervalSeconds`, `BackoffRate`, `MaxDelaySeconds`): `time.sleep` in `retrier_decl`.
Histories keep the declared values; only the time actually spent is scaled.
"""

from __future__ import annotations

import threading
import time
import types
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.program import program
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback import callback

from local.aws.patches import Patches

_scale = 1.0
_patches = Patches()
_task_clock = threading.local()  # .real: the task being evaluated in this thread times out in real time


def set_time_scale(scale: float) -> None:
    """1.0 = real time; 0.02 = a 60 s Wait lasts 1.2 s. Takes effect for waits that start afterwards."""
    global _scale
    if scale <= 0:
        raise ValueError("time scale must be positive")
    _scale = scale


def time_scale() -> float:
    return _scale


def scaled(seconds: float) -> float:
    return seconds * _scale


class ScaledEvent(threading.Event):
    """A `threading.Event` whose `wait(timeout)` lasts `timeout * scale`."""

    def wait(self, timeout: float | None = None) -> bool:
        return super().wait(None if timeout is None else scaled(timeout))


class _TaskTimeoutEvent(threading.Event):
    """The Event a Task's timeout waits on: scaled, unless the task runs in real time (`_task_clock`)."""

    def wait(self, timeout: float | None = None) -> bool:
        real = getattr(_task_clock, "real", False)
        return super().wait(None if timeout is None else timeout if real else scaled(timeout))


def _timeout_on_its_clock(evaluate: Any) -> Any:
    def evaluate_with_timeout(self: ExecutionState, env: Any) -> None:
        # A task calls something that runs in real time, unless it is a callback (it waits on the scaled clock);
        # Parallel and Map states (no resource) time the states they hold, on the scaled clock.
        resource = getattr(self, "resource", None)
        _task_clock.real = resource is not None and getattr(resource, "condition", None) is None
        try:
            evaluate(self, env)
        finally:
            _task_clock.real = False

    return evaluate_with_timeout


class _ScaledJoinThread(threading.Thread):
    def join(self, timeout: float | None = None) -> None:
        super().join(None if timeout is None else scaled(timeout))


def _scaled_wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
    # moto calls this with the keyword `wait_seconds`. Like moto's version it goes on waiting after an
    # unrelated wake-up of `program_state_event` and stops early when the program ends.
    deadline = time.monotonic() + scaled(wait_seconds)
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)


def install() -> None:
    """Idempotent. The scale stays 1.0 (real time) until `set_time_scale` is called."""
    if _patches.applied:
        return
    _patches.apply(WaitFunction, "_wait_interval", _scaled_wait_interval)
    _patches.apply(execute_state, "threading", types.SimpleNamespace(Event=_TaskTimeoutEvent))
    _patches.apply(ExecutionState, "_evaluate_with_timeout",
                   _timeout_on_its_clock(ExecutionState._evaluate_with_timeout))
    _patches.apply(callback, "Event", ScaledEvent)
    _patches.apply(program, "threading", types.SimpleNamespace(Thread=_ScaledJoinThread))
    _patches.apply(retrier_decl, "time", types.SimpleNamespace(sleep=lambda seconds: time.sleep(scaled(seconds))))


def uninstall() -> None:
    _patches.undo()
