"""Fault switches: how the emulator misbehaves on purpose, and the seeded dice that decide when."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.emulator.config import FILE_PATHS

RESULT_URL_PLACES = ("data.results.url", "data.results[0].url", "data.result_url", "url")
FORGE_MODES = ("wrong_secret", "no_signature", "stale_timestamp")


@dataclass
class Faults:
    """Mutable switches, read on every request; set them as attributes or through Emulator.set_faults.

    Task-level switches (task_error_*, task_timeout, processing_delay_seconds, never_finish) are captured
    when a task is created, so changing them later does not affect tasks already running.
    """

    rate_429: float = 0.0  # probability that a vendor API call answers 429 (with Retry-After)
    rate_5xx: float = 0.0  # probability that a vendor API call answers status_5xx
    status_5xx: int = 503
    retry_after_seconds: int = 1
    # When set, rate_429 / rate_5xx / late_answer_seconds apply only to routes whose "METHOD /path" starts with it
    # (e.g. "POST /s2s/v2.0/task" fails only task creation).
    fault_route_prefix: str | None = None
    slow_seconds: float = 0.0  # delay added before answering any non-control request
    # Delay after the work is done, before answering (routes limited by fault_route_prefix): a caller that gives
    # up or dies meanwhile never learns that the call succeeded, e.g. that a task was created and billed.
    late_answer_seconds: float = 0.0
    late_answer_count: int | None = None  # ...for the next N such calls (None: every call while set)
    task_error_code: str | None = None  # tasks end in this engine error code...
    task_error_count: int | None = None  # ...for the next N tasks (None: every task while set)
    task_timeout: bool = False  # the status call answers 500 TaskTimeout for tasks created while set
    processing_delay_seconds: float = 0.0
    never_finish: bool = False
    webhook_drop: bool = False
    webhook_duplicate: bool = False
    webhook_delay_seconds: float = 0.0
    # After the final delivery, send a stale one: new webhook-id, earlier created_at, task_status "running".
    webhook_out_of_order: bool = False
    webhook_forge: str | None = None  # one of FORGE_MODES (True means "wrong_secret")
    # While set, every status call answers InvalidTaskId (and set_faults expires all existing tasks at once).
    expire_tasks: bool = False
    # Admission limits on task creation, both answered 429 with Retry-After (limits.py): at most this many
    # running tasks on the account, and a create rate (token bucket of create_burst) in creates per second.
    max_running_tasks: int | None = None
    create_rate_per_second: float | None = None
    create_burst: int = 1
    # The live credit balance (two decimals, like amount_dec): task creation draws from it, so setting it sets it.
    credit_units: float = 1000
    credit_legacy_amount: bool = False  # the credit answer carries only the deprecated integer `amount`
    # More entries for the credit answer, reported as given and never drawn from (e.g. a type not starting "Api").
    credit_extra_entries: list[dict[str, Any]] | None = None
    # Where a successful status answer carries the result URL (one of RESULT_URL_PLACES; the first is documented).
    result_url_place: str = "data.results.url"
    # One File API path (of FILE_PATHS) answers 404, to test a client's fallback to the other.
    file_path_missing: str | None = None
    reject_api_key: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "rate_429": (float,),
    "rate_5xx": (float,),
    "status_5xx": (int,),
    "retry_after_seconds": (int,),
    "fault_route_prefix": (str, type(None)),
    "slow_seconds": (float,),
    "late_answer_seconds": (float,),
    "late_answer_count": (int, type(None)),
    "task_error_code": (str, type(None)),
    "task_error_count": (int, type(None)),
    "task_timeout": (bool,),
    "processing_delay_seconds": (float,),
    "never_finish": (bool,),
    "webhook_drop": (bool,),
    "webhook_duplicate": (bool,),
    "webhook_delay_seconds": (float,),
    "webhook_out_of_order": (bool,),
    "webhook_forge": (str, type(None)),
    "expire_tasks": (bool,),
    "max_running_tasks": (int, type(None)),
    "create_rate_per_second": (float, type(None)),
    "create_burst": (int,),
    "credit_units": (float,),
    "credit_legacy_amount": (bool,),
    "credit_extra_entries": (list, type(None)),
    "file_path_missing": (str, type(None)),
    "result_url_place": (str,),
    "reject_api_key": (bool,),
}


def coerce_fault(name: str, value: Any) -> Any:
    """Check one switch value (as it may arrive from JSON) and return it in its field's type."""
    if name not in _FIELD_TYPES:
        raise ValueError(f"unknown fault switch: {name}")
    if name == "webhook_forge":
        value = _forge_mode(value)
    types = _FIELD_TYPES[name]
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in types:
        raise ValueError(f"{name} must be {types[0].__name__}, not bool")
    if not isinstance(value, types):
        raise ValueError(f"{name} must be {types[0].__name__}")
    _check_range(name, value)
    return value


# Per-switch checks after the type check (None always passes where a switch allows it): (test, what it must be).
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "status_5xx": (lambda v: 500 <= v <= 599, "a 5xx status"),
    "max_running_tasks": (lambda v: v >= 0, ">= 0"),
    "create_rate_per_second": (lambda v: v > 0, "> 0 (None switches it off)"),
    "create_burst": (lambda v: v >= 1, "at least 1"),
    "credit_units": (lambda v: v >= 0, ">= 0"),
    "result_url_place": (lambda v: v in RESULT_URL_PLACES, f"one of {RESULT_URL_PLACES}"),
    "file_path_missing": (lambda v: v in FILE_PATHS, f"one of {FILE_PATHS}"),
    "credit_extra_entries": (lambda v: all(isinstance(e, dict) for e in v), "a list of objects"),
}


def _check_range(name: str, value: Any) -> None:
    if name.startswith("rate_") and not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} is a probability (0..1)")
    if name.endswith("_seconds") and value < 0:
        raise ValueError(f"{name} cannot be negative")
    test, expected = _RULES.get(name, (lambda v: True, ""))
    if value is not None and not test(value):
        raise ValueError(f"{name} must be {expected}")


def _forge_mode(value: Any) -> str | None:
    if value is True:
        return "wrong_secret"
    if value in (None, False):
        return None
    if value not in FORGE_MODES:
        raise ValueError(f"webhook_forge must be one of {FORGE_MODES}")
    return str(value)


def apply_faults(faults: Faults, changes: dict[str, Any]) -> None:
    """Validate every change first, then apply them all: a bad value leaves the switches untouched."""
    coerced = {name: coerce_fault(name, value) for name, value in changes.items()}
    for name, value in coerced.items():
        setattr(faults, name, value)


def reset_faults(faults: Faults, credit_units: float) -> None:
    """Back to defaults in place, so callers holding `emulator.faults` keep a live reference."""
    for f in dataclasses.fields(Faults):
        setattr(faults, f.name, f.default)
    faults.credit_units = credit_units


class Dice:
    """Seeded, thread-safe coin flips: the same request sequence meets the same injected failures."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def roll(self, probability: float) -> bool:
        if probability <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < probability

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(self._seed)
