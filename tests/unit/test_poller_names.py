"""Poller execution names (faceswap.layout.poller_name): `<job>_<polls so far>`, unique across every job and count,
in the characters Step Functions' logging asks for, and within its 80 characters."""

from __future__ import annotations

import itertools
import re

from faceswap import layout
from faceswap.jobs import NAME_PATTERN, JobManifest
from infra.config import MAX_POLLS

LOGGABLE = re.compile(r"[0-9A-Za-z_-]{1,80}")


def _job_ids(alphabet: str, longest: int) -> list[str]:
    """Every job id of up to `longest` characters over `alphabet`, as layout.job_id makes them (runs 1 to 12)."""
    names = ["".join(chars) for n in range(1, longest + 1) for chars in itertools.product(alphabet, repeat=n)]
    return [layout.job_id(name, run) for name in names if NAME_PATTERN.fullmatch(name) for run in range(1, 13)]


def test_no_two_pollers_share_a_name() -> None:
    # The characters that could confuse a split ("_", "-", digits) and a letter; counts with several digits.
    jobs = _job_ids("a1_-", 4)
    names = [layout.poller_name(job, count) for job in jobs for count in range(0, 120)]
    assert len(set(names)) == len(names) == len(jobs) * 120
    assert all(layout.poller_job_id(layout.poller_name(job, 7)) == job for job in jobs)


def test_the_longest_name_is_loggable_and_within_80_characters() -> None:
    last_run = next(m.le for m in JobManifest.model_fields["run"].metadata if hasattr(m, "le"))
    longest_job = layout.job_id("a" * 64, last_run)
    assert NAME_PATTERN.fullmatch("a" * 64) and not NAME_PATTERN.fullmatch("a" * 65)
    for count in (0, MAX_POLLS):  # a hand-over's count is below max_polls, itself at most MAX_POLLS
        assert LOGGABLE.fullmatch(layout.poller_name(longest_job, count)), longest_job
    assert len(layout.poller_name(longest_job, MAX_POLLS)) == 79


def test_names_of_other_executions_belong_to_no_job() -> None:
    assert [layout.poller_job_id(n) for n in ("clip", "clip_", "_3", "clip.3", "clip_x")] == [None] * 5
    assert layout.poller_job_id("clip--run2_0") == "clip--run2"
