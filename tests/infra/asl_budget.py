"""Worst-case durations read from a synthesized Amazon States Language definition (for test_time_budgets.py).

A Task lasts at most (1 + the MaxAttempts of all its Retry rules) x TimeoutSeconds plus the longest delay before each
retry (IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds; a FULL jitter only shortens it); a Task without
TimeoutSeconds has no bound (Step Functions' default is 99,999,999 s) and fails the walk. A Wait lasts its Seconds,
or the maximum the code allows for its SecondsPath (given by the caller). Choice, Pass, Succeed and Fail take no time.
A path follows Next, every Catch, every Choice rule and Default; a loop must be cut by the caller (with the rule that
bounds it), else the walk fails naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

State = Mapping[str, Any]
Edge = tuple[str, str]
INSTANT = ("Choice", "Pass", "Succeed", "Fail")


def definition(machine: Mapping[str, Any]) -> dict[str, Any]:
    """A state machine resource's definition, its intrinsics (function ARNs, partitions) left as `@@n@@`."""
    body = machine["Properties"]["DefinitionString"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return dict(json.loads("".join(p if isinstance(p, str) else f"@@{i}@@" for i, p in enumerate(parts))))


def retry_delays(retrier: Mapping[str, Any]) -> list[float]:
    interval, backoff = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    return [min(interval * backoff ** n, cap) for n in range(retrier.get("MaxAttempts", 3))]


def task_worst(name: str, state: State) -> float:
    if "TimeoutSeconds" not in state:
        raise AssertionError(f"task {name!r} has no TimeoutSeconds: nothing bounds it")
    retries = state.get("Retry", [])
    attempts = 1 + sum(r.get("MaxAttempts", 3) for r in retries)
    return float(attempts * state["TimeoutSeconds"] + sum(sum(retry_delays(r)) for r in retries))


def successors(state: State) -> Iterator[str]:
    yield from [state["Next"]] if "Next" in state else []
    yield from (c["Next"] for c in state.get("Catch", []))
    yield from (c["Next"] for c in state.get("Choices", []))
    yield from [state["Default"]] if "Default" in state else []


@dataclass
class Walker:
    states: Mapping[str, State]
    wait_maxima: Mapping[str, float] = field(default_factory=dict)  # SecondsPath -> the longest Wait it may give
    cut: frozenset[Edge] = frozenset()

    def duration(self, name: str) -> float:
        state = self.states[name]
        kind = state["Type"]
        if kind == "Task":
            return task_worst(name, state)
        if kind == "Wait":
            return float(state["Seconds"]) if "Seconds" in state else float(self.wait_maxima[state["SecondsPath"]])
        if kind in INSTANT:
            return 0.0
        raise AssertionError(f"state {name!r}: a {kind} state is not walked here")

    def longest(self, start: str, stop: frozenset[str] = frozenset()) -> float:
        """The longest time from entering `start` until entering a state of `stop` or ending."""
        return self._longest(start, stop, ())

    def _longest(self, name: str, stop: frozenset[str], path: tuple[str, ...]) -> float:
        if name in stop and path:
            return 0.0
        if name in path:
            raise AssertionError(f"unbounded loop: {' -> '.join((*path[path.index(name):], name))}")
        after = [self._longest(n, stop, (*path, name)) for n in successors(self.states[name])
                 if (name, n) not in self.cut]
        return self.duration(name) + max(after, default=0.0)

    def back_edges(self, start: str) -> list[Edge]:
        """The edges that close a loop (depth-first from `start`)."""
        found: list[Edge] = []
        self._back_edges(start, (), set(), found)
        return found

    def _back_edges(self, name: str, path: tuple[str, ...], done: set[str], found: list[Edge]) -> None:
        done.add(name)
        for n in successors(self.states[name]):
            if n in (*path, name):
                found.append((name, n))
            elif n not in done:
                self._back_edges(n, (*path, name), done, found)
