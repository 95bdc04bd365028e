"""One line per check, with the fix under a check that did not pass; AWS errors become failed checks."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ParamSpec

from botocore.exceptions import BotoCoreError, ClientError

P = ParamSpec("P")


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but something a user should know (no alarm e-mail, a rolled-back update)
    FAIL = "FAIL"  # the first job would fail, or a failure would go unnoticed
    SKIP = "skip"  # cannot be checked until an earlier check passes


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, name: str, detail: str) -> Check:
        return cls(name, Outcome.OK, detail)

    @classmethod
    def warn(cls, name: str, detail: str, fix: str) -> Check:
        return cls(name, Outcome.WARN, detail, fix)

    @classmethod
    def fail(cls, name: str, detail: str, fix: str) -> Check:
        return cls(name, Outcome.FAIL, detail, fix)

    @classmethod
    def skip(cls, name: str, detail: str) -> Check:
        return cls(name, Outcome.SKIP, detail)


def failed(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if c.outcome is Outcome.FAIL]


def format_report(title: str, checks: Sequence[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [title]
    for c in checks:
        lines.append(f"  {c.outcome.value:<4}  {c.name:<{width}}  {c.detail}")
        if c.fix and c.outcome in (Outcome.FAIL, Outcome.WARN):
            lines.append(f"  {'':<4}  {'':<{width}}  fix: {c.fix}")
    failures, warnings = len(failed(checks)), sum(c.outcome is Outcome.WARN for c in checks)
    verdict = "ready for a first job" if not failures else "not ready: fix what failed, then run doctor again"
    lines.append(f"{_count(failures, 'check')} failed, {_count(warnings, 'warning')}: {verdict}.")
    return "\n".join(lines) + "\n"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def aws_errors_fail(name: str, needs: str) -> Callable[[Callable[P, Check]], Callable[P, Check]]:
    """An AWS error inside the check is its failure (what AWS said, and the permission it needs), not a crash."""
    def decorate(check: Callable[P, Check]) -> Callable[P, Check]:
        @functools.wraps(check)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> Check:
            try:
                return check(*args, **kwargs)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                return Check.fail(name, f"AWS answered {error.get('Code', '?')}: {error.get('Message', '')}".strip(),
                                  f"Run doctor with credentials allowed to {needs}.")
            except BotoCoreError as exc:
                return Check.fail(name, f"AWS could not be asked: {exc}", "Check your network and AWS settings.")
        return guarded
    return decorate
