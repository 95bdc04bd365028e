"""`StopExecution` that ends the execution as on AWS (moto 5.2.5 internals).

moto's `Execution.stop` only marks the interpreter's environment stopped (`Environment.set_stop`). Wait states wake
up and end, but a `waitForTaskToken` task goes on waiting on its callback endpoint (`CallbackEndpoint.wait`, which
only SendTaskSuccess/Failure or the task's timeout wakes), and with it the Parallel branch running it, the Parallel
(it waits for all its branches) and the program. The status stays RUNNING, and no status-change event is published,
until the interpreter's thread returns: at the task's timeout, or never. Patched:
- `Execution.stop` (parser backend): if the program still runs, it ends the execution at once, as AWS does: the
  history closes with `ExecutionAborted`, and the worker's own `terminated()` sets ABORTED with the stop date
  and publishes the "Execution Status Change" event (eventbridge.py). Then the execution's callback waits are
  interrupted so that the abandoned threads unwind: being stopped, they run no further state, and their end
  changes nothing (the worker's `terminated()` is a no-op from the stop on). Stopping an ended execution changes
  nothing.
- `EventManager.add_event`: nothing is recorded after `ExecutionAborted` (the unwinding states would add
  TaskTimedOut, TaskFailed... events that AWS never shows).
A Lambda invocation in flight at the stop still runs to its end (as on AWS); its result is dropped.
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.stepfunctions.parser.api import ExecutionAbortedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.backend.execution_worker_comm import ExecutionWorkerCommunication

from local.aws.patches import Patches

_CLOSED = "_local_history_closed"  # set on an aborted execution's EventManager
_patches = Patches()


def install() -> None:
    """Idempotent; `uninstall()` restores moto."""
    if _patches.applied:
        return
    _patches.apply(Execution, "stop", _stop)
    _patches.apply(EventManager, "add_event", _add_event)


def uninstall() -> None:
    _patches.undo()


def _moto_stop(execution: Execution, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
    _patches.original(Execution, "stop")(execution, stop_date, error, cause)


def _moto_add_event(manager: EventManager, *args: Any, **kwargs: Any) -> int:
    return int(_patches.original(EventManager, "add_event")(manager, *args, **kwargs))


class _AlreadyEnded(ExecutionWorkerCommunication):
    """Stands in for the worker's communication once the stop has reflected the end."""

    def terminated(self) -> None:
        pass


def _stop(self: Execution, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
    worker = self.exec_worker
    env: Environment | None = worker.env if worker else None
    if worker is None or env is None:  # the worker thread has not set up yet: moto's own behaviour
        _moto_stop(self, stop_date, error, cause)
        return
    # Under the state lock nothing else changes the program's state: it cannot end on its own in between, and
    # the states that unwind after the stop cannot turn it into an error before the status is reflected.
    with env._state_mutex:
        if not env.is_running():
            return
        ended = worker._execution_communication
        worker._execution_communication = _AlreadyEnded()  # type: ignore[misc]  # Final in moto, set once there
        _moto_stop(self, stop_date, error, cause)  # ProgramStopped in every frame; Wait states wake up
        _close_history(env, error, cause)
        ended.terminated()  # ABORTED with its stop date, and the status-change event
    _interrupt_callbacks(env)


def _close_history(env: Environment, error: str | None, cause: str | None) -> None:
    details = ExecutionAbortedEventDetails()
    if error:  # moto passes "" for both: AWS shows no field then
        details["error"] = error
    if cause:
        details["cause"] = cause
    event_details: Any = {"executionAbortedEventDetails": details}  # EventDetails: one key of many, like moto's
    _moto_add_event(env.event_manager, context=EventHistoryContext.of_program_start(),
                    event_type=HistoryEventType.ExecutionAborted, event_details=event_details)
    setattr(env.event_manager, _CLOSED, True)


def _interrupt_callbacks(env: Environment) -> None:
    # Waiting task tokens (and heartbeats) wake up without an outcome; their states see the program stopped.
    for endpoint in list(env.callback_pool_manager._pool.values()):
        endpoint.interrupt_all()


def _add_event(self: EventManager, context: EventHistoryContext, *args: Any, **kwargs: Any) -> int:
    if getattr(self, _CLOSED, False):
        return context.last_published_event_id
    return _moto_add_event(self, context, *args, **kwargs)
