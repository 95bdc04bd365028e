"""The slot holders: job id -> Holder, a mapping never changed once built (each change makes a new one).

What decisions derive from the holders (the earliest lease, the admission times in order, the reserved units) is
computed once per version, and carried over incrementally by `with_holder`/`without`, so that a decision stays
cheap with thousands of holders (and the simulator runs 100,000 jobs in seconds).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Holder:
    """A job that holds a slot: admitted (maybe uploading), then running at the vendor once created."""

    units: int
    admitted_at: float
    lease_until: float  # reclaimed by the next try_admit after this: a job that vanished frees its slot
    created_at: float | None = None  # when the vendor task was created (its units charged)


class Holders(dict[str, Holder]):
    @cached_property
    def earliest_lease(self) -> float:
        return min((h.lease_until for h in self.values()), default=math.inf)

    @cached_property
    def admitted_times(self) -> tuple[float, ...]:
        return tuple(sorted(h.admitted_at for h in self.values()))

    @cached_property
    def reserved_units(self) -> int:
        """Units of admitted jobs whose task does not exist yet."""
        return sum(h.units for h in self.values() if h.created_at is None)

    def with_holder(self, job_id: str, holder: Holder) -> Holders:
        """A copy with `job_id` added, or replaced."""
        base = self.without(job_id) if job_id in self else self
        new = Holders({**base, job_id: holder})
        cached = base.__dict__
        if "earliest_lease" in cached:
            new.__dict__["earliest_lease"] = min(cached["earliest_lease"], holder.lease_until)
        if "admitted_times" in cached:
            times = list(cached["admitted_times"])
            bisect.insort(times, holder.admitted_at)
            new.__dict__["admitted_times"] = tuple(times)
        if "reserved_units" in cached:
            new.__dict__["reserved_units"] = cached["reserved_units"] + _reserved(holder)
        return new

    def without(self, job_id: str) -> Holders:
        """A copy without `job_id` (the same object when it is not there)."""
        gone = self.get(job_id)
        if gone is None:
            return self
        new = Holders({job: h for job, h in self.items() if job != job_id})
        cached = self.__dict__
        if "earliest_lease" in cached and gone.lease_until > cached["earliest_lease"]:
            new.__dict__["earliest_lease"] = cached["earliest_lease"]
        if "admitted_times" in cached:
            times = list(cached["admitted_times"])
            del times[bisect.bisect_left(times, gone.admitted_at)]
            new.__dict__["admitted_times"] = tuple(times)
        if "reserved_units" in cached:
            new.__dict__["reserved_units"] = cached["reserved_units"] - _reserved(gone)
        return new


def _reserved(holder: Holder) -> int:
    return holder.units if holder.created_at is None else 0
