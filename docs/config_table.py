"""`make diagram` also writes docs/configuration.md's table of context keys, from PipelineConfig's fields: the
default from the field, the meaning and accepted values from its `setting(...)` in infra/config.py."""

from __future__ import annotations

from dataclasses import Field, fields
from typing import Any

from docs import markers
from infra.config import CONTEXT_PREFIX, PipelineConfig

PAGE = markers.ROOT / "docs" / "configuration.md"
BLOCK = "configuration"
# Some keys are also tabled where what they control is explained: generated from the same fields.
ADMISSION_KEYS = ("max_tasks_in_flight", "max_creates_per_second", "max_queue_wait_minutes", "credit_wait_minutes")
PARTIAL_TABLES = {  # page -> the keys of its block "keys"
    markers.ROOT / "README.md": (*ADMISSION_KEYS, "input_mode", "input_url_ttl_minutes", "event_bus_name"),
    markers.ROOT / "docs" / "scale.md": ADMISSION_KEYS,
}
PARTIAL_BLOCK = "keys"
HEADER = "| context key | default | meaning | accepted values |\n| --- | --- | --- | --- |\n"


class Undocumented(LookupError):
    """A PipelineConfig field declared without its meaning and accepted values."""


def describe(f: Field[Any]) -> tuple[str, str]:
    if not f.metadata.get("meaning") or not f.metadata.get("accepted"):
        raise Undocumented(
            f"PipelineConfig.{f.name} has no description: declare it in infra/config.py as "
            f"`{f.name}: ... = setting(default, meaning, accepted)`, then run `make diagram`")
    return str(f.metadata["meaning"]), str(f.metadata["accepted"])


def default(value: object) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return '`""` (none)' if value == "" else f"`{value}`"


def table(config: type[PipelineConfig] = PipelineConfig, only: tuple[str, ...] = ()) -> str:
    rows = [f"| `{CONTEXT_PREFIX}{f.name}` | {default(f.default)} | {' | '.join(describe(f))} |"
            for f in fields(config) if not only or f.name in only]
    return markers.NOTE.format(source="infra/config.py") + "\n" + HEADER + "\n".join(rows) + "\n"


def main() -> None:
    if markers.write(PAGE, BLOCK, table()):
        print(f"wrote the configuration table into {PAGE.relative_to(markers.ROOT)}")
    for page, keys in PARTIAL_TABLES.items():
        if markers.write(page, PARTIAL_BLOCK, table(only=keys)):
            print(f"wrote a table of {len(keys)} keys into {page.relative_to(markers.ROOT)}")


if __name__ == "__main__":
    main()
