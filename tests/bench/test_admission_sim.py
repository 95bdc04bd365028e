"""The admission simulator (simulated clock, no AWS): fast, deterministic (seeded), so its outcomes are asserted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench.admission_sim import MAKESPAN_TARGET, SCENARIOS, UTILISATION_TARGET, main, settings_for, simulate
from bench.admission_world import World


def test_a_burst_of_200_meets_the_targets_and_never_exceeds_the_cap() -> None:
    figures = simulate("burst-200", SCENARIOS["burst-200"])
    assert figures.outcomes == {"succeeded": 200}
    assert figures.utilisation >= UTILISATION_TARGET and figures.makespan_ratio <= MAKESPAN_TARGET
    assert figures.vendor_429 == 0  # the vendor never saw more than its cap nor its create rate
    assert figures.per_job["dynamodb_reads"] < 20 and figures.per_job["sqs_sends"] < 20


def test_a_vendor_outage_is_back_pressure_not_failure() -> None:
    figures = simulate("outage-200", SCENARIOS["outage-200"])
    assert figures.outcomes == {"succeeded": 200}  # none failed, none dead-lettered
    assert 0 < figures.vendor_429 <= 10  # the breaker opened after a few: the rest waited instead of calling


def test_credit_for_some_jobs_ends_the_rest_at_once_with_nothing_spent() -> None:
    scenario = SCENARIOS["credit-200"]
    world = World(scenario, settings_for(scenario)).run()
    outcomes = {j.outcome for j in world.jobs}
    assert outcomes == {"succeeded", "credit_insufficient"}
    assert scenario.credit_units is not None
    spent = sum(j.units for j in world.jobs if j.created_at is not None)
    assert spent == scenario.credit_units - world.vendor.balance and world.vendor.balance >= 0
    assert all(j.created_at is None for j in world.jobs if j.outcome == "credit_insufficient")  # 0 units spent
    assert world.vendor.balance < 6  # and the balance was used: less than the largest job (6 units) is left


def test_the_cli_prints_the_ratios_and_writes_the_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "burst-200", "--plot-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "utilisation of the cap while jobs waited" in out and "makespan / ideal" in out and "met" in out
    assert (tmp_path / "admission-burst-200.png").stat().st_size > 10_000


def test_a_crashed_start_leaks_no_slot() -> None:
    """Every 7th admitted job vanishes before creating its task (no release): its lease gives the slot back."""
    scenario = replace(SCENARIOS["burst-200"], jobs=60)
    world = World(scenario, replace(settings_for(scenario), start_lease_seconds=120))
    original = world._create
    vanished: set[str] = set()

    def create(batch, index, control, clock):  # type: ignore[no-untyped-def]
        job = batch[index]
        if len(vanished) < 5 and int(job.id[4:]) % 7 == 0 and job.id not in vanished:
            vanished.add(job.id)
            job.outcome = "vanished"
            world._at(clock.t, world._process, batch, index + 1)
            return
        original(batch, index, control, clock)

    world._create = create  # type: ignore[method-assign]
    world.run()
    assert sum(j.outcome == "succeeded" for j in world.jobs) == 60 - len(vanished)
    assert world.item.state is not None and not world.item.state.holders
