"""IAM's evaluation of identity-based policy statements for one request, as AWS documents it.

Written here because no evaluator on PyPI fits (see tests/iam/__init__.py): an explicit Deny wins, else an Allow
whose Action/NotAction, Resource/NotResource and every Condition match allows, else the request is denied.
- Actions match case-insensitively, with `*` and `?`; resources case-sensitively, with `*` and `?` (which may span
  `:` and `/`), and with `${key}` policy variables taken from the request context.
- Condition blocks all must match (AND), keys in a block all must match (AND), values of a key any (OR); a negated
  operator matches when no value does. A missing key fails a condition, except with `...IfExists`, `Null`, a
  negated operator and `ForAllValues:` (true on an empty set); `ForAnyValue:` needs one matching value.
- Operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals/Like (per ARN part), Bool, Null,
  Numeric*. Others raise `UnsupportedCondition`: better a failing test than a wrong proof.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

ContextValue = str | Sequence[str]


class UnsupportedCondition(ValueError):
    pass


@dataclass(frozen=True)
class Request:
    action: str  # "s3:GetObject"
    resource: str  # an ARN, or "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, and where it came from (for messages and the usage report)."""

    source: str  # e.g. "PipelineStartJobServiceRoleDefaultPolicy0B597053[3]"
    body: Mapping[str, Any]

    @property
    def effect(self) -> str:
        return str(self.body.get("Effect"))

    def values(self, element: str) -> list[str]:
        value = self.body.get(element, [])
        return [value] if isinstance(value, str) else list(value)

    def describe(self) -> str:
        actions = ", ".join(self.values("Action") or [f"NOT {a}" for a in self.values("NotAction")])
        resources = ", ".join(self.values("Resource") or [f"NOT {r}" for r in self.values("NotResource")])
        condition = f" if {self.body['Condition']}" if self.body.get("Condition") else ""
        return f"{self.source}: {self.effect} {actions} on {resources}{condition}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    allowed_by: tuple[Statement, ...]
    denied_by: tuple[Statement, ...]


def evaluate(statements: Sequence[Statement], request: Request) -> Decision:
    matching = [s for s in statements if matches(s, request)]
    denied = tuple(s for s in matching if s.effect == "Deny")
    allowed = tuple(s for s in matching if s.effect == "Allow")
    return Decision(bool(allowed) and not denied, allowed, denied)


def matches(statement: Statement, request: Request) -> bool:
    if "NotAction" in statement.body:
        action_ok = not any(action_matches(p, request.action) for p in statement.values("NotAction"))
    else:
        action_ok = any(action_matches(p, request.action) for p in statement.values("Action"))
    if not action_ok:
        return False
    if "NotResource" in statement.body:
        resource_ok = not any(resource_matches(p, request.resource, request.context)
                              for p in statement.values("NotResource"))
    else:
        resource_ok = any(resource_matches(p, request.resource, request.context) for p in statement.values("Resource"))
    return resource_ok and conditions_match(statement.body.get("Condition", {}), request.context)


def action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern.lower()).fullmatch(action.lower()) is not None


def resource_matches(pattern: str, resource: str, context: Mapping[str, ContextValue] | None = None) -> bool:
    return _glob(_substitute(pattern, context or {})).fullmatch(resource) is not None


def _substitute(pattern: str, context: Mapping[str, ContextValue]) -> str:
    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        return found if isinstance(found, str) else match.group(0)  # unknown or multi-valued: stays, never matches

    return re.sub(r"\$\{([^}]+)\}", value, pattern)


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


# --- conditions -----------------------------------------------------------------------------------------------------
def conditions_match(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, ContextValue]) -> bool:
    return all(_block_matches(operator, block, context) for operator, block in conditions.items())


def _block_matches(operator: str, block: Mapping[str, Any], context: Mapping[str, ContextValue]) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists") and name != "Null"
    name = name.removesuffix("IfExists")
    test, negated = _operator(name)
    results = []
    for key, expected in block.items():
        present = _context_value(context, key)
        values = [expected] if isinstance(expected, str | bool | int | float) else list(expected)
        wanted = [str(w).lower() if isinstance(w, bool) else str(w) for w in values]
        results.append(_key_matches(qualifier, name, test, negated, if_exists, present, wanted))
    return all(results)


def _key_matches(qualifier: str, name: str, test: Callable[[str, str], bool], negated: bool, if_exists: bool,
                 present: list[str] | None, wanted: list[str]) -> bool:
    if name == "Null":
        return (present is None or not present) == (wanted[0].lower() == "true")
    if qualifier == "ForAllValues":
        return all(_one_value(test, negated, value, wanted) for value in present or [])
    if qualifier == "ForAnyValue":
        return any(_one_value(test, negated, value, wanted) for value in present or [])
    if qualifier:
        raise UnsupportedCondition(f"unknown set operator qualifier {qualifier!r}")
    if present is None:
        return if_exists or negated
    return any(_one_value(test, negated, value, wanted) for value in present)


def _one_value(test: Callable[[str, str], bool], negated: bool, value: str, wanted: list[str]) -> bool:
    hit = any(test(w, value) for w in wanted)
    return not hit if negated else hit


def _context_value(context: Mapping[str, ContextValue], key: str) -> list[str] | None:
    for name, value in context.items():  # condition keys are case-insensitive
        if name.lower() == key.lower():
            return [value] if isinstance(value, str) else list(value)
    return None


def _arn_like(pattern: str, value: str) -> bool:
    if pattern == "*":
        return True
    wanted, got = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(got) == 6 and all(_glob(w).fullmatch(g) is not None for w, g in zip(wanted, got,
                                                                                                   strict=True))


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def test(wanted: str, value: str) -> bool:
        try:
            return compare(float(value), float(wanted))
        except ValueError:
            return False

    return test


_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda w, v: w == v, False),
    "StringNotEquals": (lambda w, v: w == v, True),
    "StringEqualsIgnoreCase": (lambda w, v: w.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda w, v: w.lower() == v.lower(), True),
    "StringLike": (lambda w, v: _glob(w).fullmatch(v) is not None, False),
    "StringNotLike": (lambda w, v: _glob(w).fullmatch(v) is not None, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (lambda w, v: w.lower() == v.lower(), False),
    "Null": (lambda w, v: True, False),
    "NumericEquals": (_numeric(lambda v, w: v == w), False),
    "NumericNotEquals": (_numeric(lambda v, w: v == w), True),
    "NumericLessThan": (_numeric(lambda v, w: v < w), False),
    "NumericLessThanEquals": (_numeric(lambda v, w: v <= w), False),
    "NumericGreaterThan": (_numeric(lambda v, w: v > w), False),
    "NumericGreaterThanEquals": (_numeric(lambda v, w: v >= w), False),
}


def _operator(name: str) -> tuple[Callable[[str, str], bool], bool]:
    if name not in _OPERATORS:
        raise UnsupportedCondition(f"condition operator {name!r} is not evaluated here")
    return _OPERATORS[name]


def fnmatch_any(patterns: Sequence[str], value: str) -> bool:
    """Case-insensitive glob match of `value` against any of `patterns` (for the allow-list of unused grants)."""
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)
