"""What every section returns, and the one table they are all printed in.

A section yields rows: a measurement, the baseline it was measured against in the same run, their ratio, and,
for the issue's targets, the target and whether it was met. A target that is not met carries a line saying why
and what would meet it; it is printed under the table.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

MET, NOT_MET, NOT_JUDGED = "met", "NOT MET", "smoke"


@dataclass(frozen=True)
class Target:
    text: str  # e.g. "<= 0.10"
    met: bool
    why_not: str = ""  # why, and what would meet it (printed when not met)


@dataclass(frozen=True)
class Row:
    measurement: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: Target | None = None


@dataclass
class SectionResult:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how it was measured: scale, sizes, what is modelled
    seconds: float = 0.0

    def add(self, measurement: str, value: str, baseline: str = "", ratio: str = "",
            target: Target | None = None) -> None:
        self.rows.append(Row(measurement, value, baseline, ratio, target))

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def targets(self) -> list[Target]:
        return [row.target for row in self.rows if row.target is not None]


def verdict(target: Target | None, smoke: bool) -> str:
    if target is None:
        return ""
    if smoke:
        return NOT_JUDGED
    return MET if target.met else NOT_MET


def all_met(results: list[SectionResult]) -> bool:
    return all(t.met for r in results for t in r.targets)


COLUMNS = ("Measurement", "Value", "Baseline (same run)", "Ratio", "Target", "Verdict")
WIDTH_LIMITS = (44, 26, 30, 8, 14, 7)


def print_report(results: list[SectionResult], header: list[str], smoke: bool, out: TextIO) -> None:
    for line in header:
        print(line, file=out)
    print(file=out)
    sections = [(r.title, [[row.measurement, row.value, row.baseline, row.ratio,
                            row.target.text if row.target else "", verdict(row.target, smoke)] for row in r.rows])
                for r in results]
    _print_table(sections, out)
    _print_unmet(results, smoke, out)
    _print_notes(results, out)


def _print_table(sections: list[tuple[str, list[list[str]]]], out: TextIO) -> None:
    wrapped = [(title, [[textwrap.wrap(cell, limit) or [""] for cell, limit in zip(row, WIDTH_LIMITS, strict=True)]
                        for row in rows]) for title, rows in sections]
    widths = [max([len(COLUMNS[i])] + [len(line) for _, rows in wrapped for row in rows for line in row[i]])
              for i in range(len(COLUMNS))]
    inner = sum(widths) + 3 * (len(widths) - 1)
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    print(rule, file=out)
    print("| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |", file=out)
    for title, rows in wrapped:
        print(rule.replace("-", "="), file=out)
        print("| " + title.upper().ljust(inner) + " |", file=out)
        print(rule, file=out)
        for row in rows:
            for line_no in range(max(len(cell) for cell in row)):
                cells = [cell[line_no] if line_no < len(cell) else "" for cell in row]
                print("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |", file=out)
    print(rule, file=out)


def _print_unmet(results: list[SectionResult], smoke: bool, out: TextIO) -> None:
    if smoke:
        print("\nSmoke run: tiny sizes, targets are not judged.", file=out)
        return
    unmet = [(r.title, row) for r in results for row in r.rows if row.target and not row.target.met]
    if not unmet:
        print("\nEvery target met.", file=out)
        return
    print("\nTargets not met:", file=out)
    for title, row in unmet:
        assert row.target is not None
        print(textwrap.fill(f"- {title} / {row.measurement}: {row.target.why_not}", 116,
                            subsequent_indent="  "), file=out)


def _print_notes(results: list[SectionResult], out: TextIO) -> None:
    print("\nHow each section was measured:", file=out)
    for r in results:
        print(f"[{r.title}] ({r.seconds:.0f} s)", file=out)
        for note in r.notes:
            print(textwrap.fill(note, 116, initial_indent="  - ", subsequent_indent="    "), file=out)


def to_json(results: list[SectionResult], header: list[str], smoke: bool) -> dict[str, Any]:
    return {"header": header, "smoke": smoke, "all_met": all_met(results),
            "sections": [asdict(r) for r in results]}


def write_json(path: str, payload: dict[str, Any]) -> None:
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=2)
