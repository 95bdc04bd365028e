"""docs/configuration.md's table is generated from PipelineConfig (one source), every field has its meaning and
accepted values, and the accepted values it documents are the ones validation accepts."""

from __future__ import annotations

import re
from dataclasses import fields, make_dataclass
from pathlib import Path

import pytest

from docs import config_table, markers
from infra.config import ConfigError, PipelineConfig, _coerce


def test_the_committed_table_is_the_generated_one() -> None:
    assert markers.read(config_table.PAGE, config_table.BLOCK) == config_table.table(), (
        "docs/configuration.md's table is not infra/config.py's: run `make diagram`")


@pytest.mark.parametrize("page", config_table.PARTIAL_TABLES, ids=lambda p: p.name)
def test_the_partial_tables_are_generated_from_the_same_fields(page: Path) -> None:
    keys = config_table.PARTIAL_TABLES[page]
    assert markers.read(page, config_table.PARTIAL_BLOCK) == config_table.table(only=keys), (
        f"{page.name}'s table of keys is not infra/config.py's: run `make diagram`")
    assert {f.name for f in fields(PipelineConfig)} >= set(keys), "a partial table names a key that does not exist"


def test_every_field_is_documented() -> None:
    for f in fields(PipelineConfig):
        config_table.describe(f)  # raises, naming the field and the fix
        assert len(f.metadata["meaning"]) <= 200, f"PipelineConfig.{f.name}: keep the meaning under 200 characters"


def test_a_field_without_a_description_fails_with_the_fix() -> None:
    newer = make_dataclass("Newer", [("input_mode", str, "upload")], bases=(PipelineConfig,), frozen=True)
    with pytest.raises(config_table.Undocumented, match=r"PipelineConfig.input_mode has no description: .* setting\("):
        config_table.table(newer)


@pytest.mark.parametrize("name", [f.name for f in fields(PipelineConfig)])
def test_the_documented_values_are_the_accepted_ones(name: str) -> None:
    f = next(f for f in fields(PipelineConfig) if f.name == name)
    accepted = str(f.metadata["accepted"])
    # The wait, Finalize and Record failure must fit in the run: each bound is probed with the other at its end.
    others = {"run_timeout_minutes": {"webhook_wait_minutes": 7},
              "webhook_wait_minutes": {"run_timeout_minutes": 1440}}.get(name, {})
    if bounds := re.fullmatch(r"(\d+) to (\d+)", accepted):
        low, high = int(bounds[1]), int(bounds[2])
        for value in (low, high):
            PipelineConfig(**{**others, name: value}).validate()  # type: ignore[arg-type]
        for value in (low - 1, high + 1):
            with pytest.raises(ConfigError, match=name):
                PipelineConfig(**{**others, name: value}).validate()  # type: ignore[arg-type]
    elif re.fullmatch(r"`[^`]+`(, `[^`]+`)+", accepted):
        for value in re.findall(r"`([^`]+)`", accepted):
            PipelineConfig(**{name: _coerce(name, value, type(f.default))}).validate()
