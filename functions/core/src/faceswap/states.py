"""The contracts between the state machines and the functions: one model per state's input and output.

The handlers parse their event with these (Powertools' parser) and return `model_dump()`; infra/workflow.py builds
its JSONPaths and payloads from the same field names (infra/paths.py), so a renamed field stops the synth instead of
silently breaking the state machine. Unknown keys are ignored: a state may pass more than a function reads.

    Job ($):     ExecutionInput, then .wait (the signal), .outcome (FinalizeOutput) or .error (StateError)
    Poller ($):  PollerInput, then .registration (StoreTokenOutput), .poll (PollState) and .error (StateError)
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field


class StateError(BaseModel):
    """A Step Functions error as a Catch hands it on ($.error), and as the poller reports a failed vendor task."""

    Error: str = "Unknown"
    Cause: str | None = None


class PollProgress(BaseModel):
    """$.poll as the job hands it to its poller: the next Wait (whole seconds) and the polls so far."""

    interval_seconds: int = 0
    count: int = 0


class PollState(PollProgress):
    """$.poll after a check: check_status's answer, read by the poller's choice states."""

    final: bool
    status: str  # the vendor's task status, or "unavailable" (a 429/5xx: the next poll is the retry)
    hand_over: bool  # the next round would end past the Express limit: start a fresh poller
    vendor_error: StateError | None = None  # only when the task ended in error: the job's failure


class ExecutionInput(BaseModel):
    """The job execution's input, from the start function (StartExecution is idempotent for the same input)."""

    job_id: str
    task_id: str
    poll: PollProgress

    @classmethod
    def first(cls, job_id: str, task_id: str, interval_seconds: int) -> ExecutionInput:
        """Before the first poll: its Wait (faceswap.polling.wait_seconds), no polls yet."""
        return cls(job_id=job_id, task_id=task_id, poll=PollProgress(interval_seconds=interval_seconds))

    def to_json(self) -> str:
        return json.dumps(self.model_dump())


class FinalizeInput(BaseModel):
    job_id: str
    task_id: str


class FinalizeOutput(BaseModel):
    """$.outcome of the job."""

    succeeded: bool
    output_key: str


class JobState(ExecutionInput):
    """What the job carries from state to state."""

    wait: dict[str, Any] | None = None  # the signal that ended the wait (poller or webhook)
    outcome: FinalizeOutput | None = None
    error: StateError | None = None


class RecordFailureInput(BaseModel):
    job_id: str
    task_id: str | None = None  # for the logs, when the payload has it
    error: StateError = Field(default_factory=StateError)


class RecordFailureOutput(BaseModel):
    recorded: bool  # false: the job had already ended (first final state wins)
    code: str


class PollerInput(BaseModel):
    """The poller execution's input: the job's, and the task token its wait hands back. A poller that hands over
    passes its whole state ($) to the next one, which reads these fields of it."""

    token: str
    job_id: str
    task_id: str
    poll: PollProgress


class StoreTokenInput(BaseModel):
    token: str
    job_id: str
    task_id: str


class StoreTokenOutput(BaseModel):
    """$.registration of the poller."""

    registered: bool = True
    signalled: bool  # the webhook had come first: the token was used at once, the poller ends


class CheckStatusInput(BaseModel):
    job_id: str
    task_id: str
    poll: PollProgress = Field(default_factory=PollProgress)
    poller_started: str | None = None  # $$.Execution.StartTime of this poller: when to hand over


class PollerState(PollerInput):
    """What the poller carries from state to state."""

    poll: PollState  # after the first check; PollProgress before it
    registration: StoreTokenOutput | None = None
    error: StateError | None = None
