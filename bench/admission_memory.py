"""The ADMISSION item in memory, for the simulator: the same requests as faceswap.admission.store, the same
conditions, and the same outcome of a race, on a simulated clock.

Each request takes `latency` seconds of the calling start function's time (its CallClock). A versioned write fails,
as on DynamoDB, when another caller's write landed between this caller's read and this write. The simulator runs
each call to completion at its start time (no threads), so "between" means: another caller's write stamped after
this caller's read and no later than this write; with equal request latencies that is exactly the set of writes
that would have landed in that window on DynamoDB. Capacity units are counted from the item's size as DynamoDB
bills them: a strongly consistent read 1 RCU per 4 KB, a write (also a failed conditional one) 1 WCU per KB.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field, replace

from faceswap.admission.model import AdmissionState, Holders

ITEM_BASE_BYTES = 330  # pk, version, bucket, breaker, credit, hold and queue counters: names and values
HOLDER_BYTES = 45  # per holder: map overhead, four one-letter numbers (u, a, l, c)...
JOB_ID_BYTES = 24  # ...and the job id (a typical name; up to 73 characters)


@dataclass
class CallClock:
    """The time inside one simulated call; every request and pause moves it on."""

    t: float

    def __call__(self) -> float:
        return self.t

    def spend(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class MemoryItem:
    latency: float = 0.006
    state: AdmissionState | None = None
    next_ticket: int = 0
    served: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    wcu_by_second: Counter[int] = field(default_factory=Counter)
    max_bytes: int = 0
    _commits: deque[tuple[float, int]] = field(default_factory=deque)  # (when, caller) of version bumps

    def view(self, clock: CallClock, caller: int) -> MemoryStore:
        return MemoryStore(self, clock, caller)

    def size(self) -> int:
        holders = self.state.holders if self.state else Holders()
        return ITEM_BASE_BYTES + len(holders) * (HOLDER_BYTES + JOB_ID_BYTES)

    def bill_write(self, when: float, before: int) -> None:
        size = max(before, self.size())
        self.max_bytes = max(self.max_bytes, size)
        self.bill_units(when, math.ceil(size / 1024))

    def bill_units(self, when: float, units: int) -> None:
        self.counts["wcu"] += units
        self.wcu_by_second[int(when)] += units

    def committed(self, when: float, caller: int) -> None:
        self._commits.append((when, caller))
        while self._commits and self._commits[0][0] < when - 1:
            self._commits.popleft()

    def raced(self, since: float, until: float, caller: int) -> bool:
        return any(since < when <= until and who != caller for when, who in self._commits)


class MemoryStore:
    """One caller's handle on the item (implements faceswap.admission.store.AdmissionStore)."""

    def __init__(self, item: MemoryItem, clock: CallClock, caller: int) -> None:
        self._item, self._clock, self._caller = item, clock, caller
        self._read_at = clock.t

    def read(self) -> AdmissionState | None:
        item = self._request("read")
        self._read_at = self._clock.t
        item.counts["rcu"] += math.ceil(item.size() / 4096) + 1  # BatchGetItem: the item and the queue counter
        if item.state is None:
            return None if not item.next_ticket else AdmissionState(0.0, 0.0, next_ticket=item.next_ticket,
                                                                    served=item.served)
        if (item.state.next_ticket, item.state.served) != (item.next_ticket, item.served):
            item.state = replace(item.state, next_ticket=item.next_ticket, served=item.served)  # keeps holders
        return item.state

    def write(self, state: AdmissionState, served_delta: int) -> bool:
        item = self._request("write")
        stored_version = item.state.version if item.state else 0
        before = item.size()
        if stored_version != state.version or item.raced(self._read_at, self._clock.t, self._caller):
            item.counts["conflict"] += 1
            item.bill_write(self._clock.t, before)
            return False
        item.served += served_delta
        item.state = replace(state, version=state.version + 1, next_ticket=item.next_ticket, served=item.served)
        self._bumped(before)
        return True

    def take_ticket(self) -> int:
        item = self._request("ticket")
        item.next_ticket += 1
        item.bill_units(self._clock.t, 1)  # the queue counter's own small item
        return item.next_ticket

    def leave_queue(self) -> None:
        item = self._request("leave")
        item.served += 1
        item.bill_write(self._clock.t, item.size())

    def mark_created(self, job_id: str, created_at: float, lease_until: float) -> bool:
        item = self._request("created")
        holder = item.state.holders.get(job_id) if item.state else None
        if item.state is None or holder is None or holder.created_at is not None:
            item.bill_write(self._clock.t, item.size())
            return False
        holders = item.state.holders.with_holder(job_id, replace(holder, created_at=created_at,
                                                                  lease_until=lease_until))
        self._bump(replace(item.state, holders=holders, charged=item.state.charged + holder.units))
        return True

    def release(self, job_id: str, held_seconds: float | None) -> bool:
        item = self._request("release")
        if item.state is None or job_id not in item.state.holders:
            item.bill_write(self._clock.t, item.size())
            return False
        state = item.state
        holders = state.holders.without(job_id)
        if held_seconds is not None:
            state = replace(state, hold_sum=state.hold_sum + held_seconds, hold_count=state.hold_count + 1)
        self._bump(replace(state, holders=holders))
        return True

    def reset_breaker(self) -> bool:
        item = self._request("reset")
        if item.state is None or item.state.breaker_failures <= 0:
            item.bill_write(self._clock.t, item.size())
            return False
        self._bump(replace(item.state, breaker_failures=0, breaker_openings=0, open_until=0.0))
        return True

    def _request(self, kind: str) -> MemoryItem:
        self._clock.spend(self._item.latency)
        self._item.counts[kind] += 1
        return self._item

    def _bump(self, state: AdmissionState) -> None:
        before = self._item.size()
        self._item.state = replace(state, version=state.version + 1)
        self._bumped(before)

    def _bumped(self, before: int) -> None:
        self._item.bill_write(self._clock.t, before)
        self._item.committed(self._clock.t, self._caller)
