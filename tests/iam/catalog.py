"""Every IAM action and the resource types it applies to, from the data cfn-lint ships (already a dev dependency,
updated with each release): to expand a wildcard grant (`s3:GetObject*`) into the actions it really grants."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from tests.iam.evaluator import action_matches


@cache
def _services() -> dict[str, Any]:
    policies = resources.files("cfnlint.data.AdditionalSpecs").joinpath("Policies.json")
    return dict(json.loads(policies.read_text()))


def known(action: str) -> bool:
    prefix, _, name = action.lower().partition(":")
    return name in _services().get(prefix, {}).get("Actions", {})


def expand(pattern: str) -> list[str]:
    """The actions an Action element grants, as `prefix:action` in lower case (unknown names are kept as they are)."""
    prefix, _, name = pattern.lower().partition(":")
    if "*" not in name and "?" not in name:
        return [pattern.lower()]
    return sorted(f"{prefix}:{action}" for action in _services().get(prefix, {}).get("Actions", {})
                  if action_matches(pattern, f"{prefix}:{action}"))


def applies(action: str, resources: Sequence[str]) -> bool:
    """Whether the action, granted on these resources, can authorise anything: one of its resource types must be
    among them (an action without resource types needs "*")."""
    if "*" in resources:
        return True
    prefix, _, name = action.lower().partition(":")
    service = _services().get(prefix, {})
    types = service.get("Actions", {}).get(name, {}).get("Resources", [])
    formats = [f for t in types for f in service.get("Resources", {}).get(t, {}).get("ARNFormats", [])]
    samples = [re.sub(r"[*?]", "x", r) for r in resources]
    return any(_format(f).fullmatch(sample) for f in formats for sample in samples)


@cache
def _format(arn_format: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\$\{[^}]+\}", ".+", arn_format))
