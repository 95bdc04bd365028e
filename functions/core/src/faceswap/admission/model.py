"""What admission decides about, and what it answers: the shared state, a job's request, the three decisions."""

from __future__ import annotations

from dataclasses import dataclass, field

from faceswap.admission.holders import Holder, Holders
from faceswap.errors import ErrorReport

__all__ = ["Holder", "Holders"]  # re-exported: the state is made of them

# Why a job waits (Wait.reason).
NO_SLOT = "no_free_slot"
NO_TOKEN = "no_rate_token"
BREAKER_OPEN = "breaker_open"
CREDIT_SHORT = "credit_short"
VENDOR_BUSY = "vendor_busy"  # the vendor answered 429 or timed out for this job
CONTENTION = "contention"  # lost the race for the admission item too often in a row: try again shortly
# Why a job is refused (Refused.code, also error.json's code).
CREDIT_INSUFFICIENT = "credit_insufficient"
QUEUE_WAIT_EXCEEDED = "queue_wait_exceeded"


@dataclass(frozen=True)
class AdmissionState:
    """The ADMISSION item. `next_ticket` and `served` are counters that only ever grow (atomic ADDs, never part
    of a versioned write); everything else is written as a whole under the `version` condition."""

    tokens: float
    tokens_at: float
    holders: Holders = field(default_factory=lambda: Holders())
    breaker_failures: int = 0  # consecutive vendor 429s/timeouts; a success resets it
    breaker_openings: int = 0  # openings since the last success: each doubles the backoff
    open_until: float = 0.0
    credit_balance: int | None = None  # spendable units as last read from the vendor; None: never read
    credit_read_at: float = 0.0
    charged: int = 0  # units of tasks created since the balance was read (the vendor deducts at create)
    hold_sum: float = 0.0  # slot hold times fed by release(), decayed so that the mean follows changes
    hold_count: float = 0.0
    next_ticket: int = 0  # queue numbers handed out to waiting jobs
    served: int = 0  # queue numbers that left the queue (admitted or refused)
    served_at: float = 0.0  # when a numbered job last took a slot (0: never): is the queue claiming free slots?
    version: int = 0  # 0: the item does not exist yet

    @classmethod
    def initial(cls, now: float, burst: float) -> AdmissionState:
        return cls(tokens=burst, tokens_at=now)


@dataclass(frozen=True)
class QueueTicket:
    """A waiting job's place in the queue, carried in its re-sent message and handed back to try_admit."""

    number: int  # 0: not numbered (never waited for a slot)
    queued_at: float  # when the job first waited: max_queue_wait_seconds counts from here
    credit_short_since: float | None = None  # credit_wait_seconds counts from here


@dataclass(frozen=True)
class AdmissionRequest:
    job_id: str
    units: int  # what the job will cost (billable units), reserved from the cached balance when admitted
    ticket: QueueTicket | None = None  # from the job's last Wait; None on its first attempt
    inputs_sent: bool = True  # False: its files are not at the vendor yet (admission answers SendInputs first)


@dataclass(frozen=True)
class Admitted:
    job_id: str
    already_held: bool = False  # a retried start: it keeps the slot it had


@dataclass(frozen=True)
class SendInputs:
    """A slot and a create token are free for the job, but its inputs are not at the vendor: upload them, then ask
    again. Nothing was taken: the slot goes to the job once its create can follow at once (the vendor's cap is not
    held idle through uploads, and the creates keep to the token bucket)."""

    job_id: str


@dataclass(frozen=True)
class Wait:
    reason: str
    delay_seconds: int  # <= 900 (SQS DelaySeconds); a longer wait is several waits
    ticket: QueueTicket  # put it into the re-sent message
    # Near the front (a slot is expected within about one hold time): the job's inputs may go to the vendor now,
    # so that its slot, once taken, goes straight to the create call instead of standing idle through uploads.
    inputs_ahead: bool = False


@dataclass(frozen=True)
class Refused:
    code: str
    message: str
    what_to_fix: str

    def report(self) -> ErrorReport:
        """The error.json of a job that admission turned away (0 units spent)."""
        return ErrorReport("AdmissionRefused", self.code, self.message, self.what_to_fix)


Decision = Admitted | SendInputs | Wait | Refused
