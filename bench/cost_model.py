"""The AWS bill of one job, for three designs, from measured counts plus explicitly modelled quantities.

Measured (bench.cost, from real local runs): the job's Standard state transitions and the poller executions per
job (execution histories), Lambda invocations and their durations, API Gateway requests, DynamoDB / S3 / Secrets
Manager requests (moto's request recorder) and the vendor calls per job. Read from the synthesized template:
memory sizes and S3 retention days.
Modelled here, and printed with the results: the vendor's processing time per video length (and so the polls and
the Express poller's duration), media sizes, the transfer rate of real media and the vendor's round trip per
status call.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from faceswap.budgets import HAND_OVER_AFTER_SECONDS

PRICES_FILE = Path(__file__).with_name("prices.json")
MB = 1e6


@dataclass(frozen=True)
class Prices:
    transition: float
    express_request: float
    express_gb_second: float
    gb_second: float  # Lambda's, for the architecture these prices are `on` (x86_64 as loaded)
    lambda_request: float
    api_request: float
    write_unit: float
    read_unit: float
    gb_month: float
    s3_put: float
    s3_get: float
    secrets_call: float
    checked: str
    region: str
    lambda_gb_second: dict[str, float] = field(default_factory=dict)  # by architecture: arm64, x86_64

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        raw = json.loads(path.read_text())
        return cls(raw["step_functions_standard_per_state_transition"], raw["step_functions_express_per_request"],
                   raw["step_functions_express_per_gb_second"], raw["lambda_x86_per_gb_second"],
                   raw["lambda_per_request"], raw["api_gateway_rest_per_request"],
                   raw["dynamodb_on_demand_per_write_request_unit"], raw["dynamodb_on_demand_per_read_request_unit"],
                   raw["s3_standard_per_gb_month"], raw["s3_put_copy_post_list_per_request"],
                   raw["s3_get_and_other_per_request"], raw["secrets_manager_per_api_call"], raw["checked"],
                   raw["region"], {"x86_64": raw["lambda_x86_per_gb_second"],
                                   "arm64": raw["lambda_arm64_per_gb_second"]})

    def on(self, architecture: str) -> Prices:
        """The same prices with Lambda's GB-second of that architecture (requests cost the same on both)."""
        return replace(self, gb_second=self.lambda_gb_second[architecture])


@dataclass(frozen=True)
class Assumptions:
    """What is modelled rather than measured (the vendor's real timings are not published)."""

    processing_base_seconds: float = 10.0  # vendor processing = base + per_video_second x video length:
    processing_per_video_second: float = 2.5  # 10 s -> 35 s, 30 s -> 85 s (its own client gives up at 100 s)
    polling_interval: float = 5.0  # the vendor's default polling_interval, at which this design's poller polls
    vendor_rtt_seconds: float = 0.2  # one status call from Lambda to the vendor, added to each poll's duration
    sfn_call_seconds: float = 0.05  # one Step Functions API call from a state (the poller's guard)
    # Express bills the memory an execution uses (50 MB + definition + payload) in 64 MB steps: the poller's
    # small definition and payload stay in the first step.
    express_memory_mb: int = 64
    # A poller hands over to a fresh execution after ~2 minutes (faceswap.budgets: its worst case stays well
    # inside the 5 minutes an Express execution may run): one more request per that much vendor processing.
    hand_over_seconds: float = HAND_OVER_AFTER_SECONDS
    video_mb_per_second: float = 1.0  # input video, ~8 Mbit/s
    face_mb: float = 0.5
    result_mb_per_second: float = 0.5  # result, long side <= 1280 px, ~4 Mbit/s
    transfer_mb_per_second: float = 50.0  # Lambda <-> vendor / S3 for real media (local runs move tiny clips)

    def processing_seconds(self, video_seconds: float) -> float:
        return self.processing_base_seconds + self.processing_per_video_second * video_seconds


@dataclass(frozen=True)
class TemplateFacts:
    memory_mb: dict[str, int]  # handler module ("finalize") -> MemorySize
    inputs_retention_days: int
    results_retention_days: int
    architecture: str = "x86_64"  # the functions' (Lambda's default when a template names none)


@dataclass(frozen=True)
class PathProfile:
    """Per job, averaged over the recorded local runs of one path (webhook or polling-only)."""

    transitions: float  # the job's Standard state transitions (its pollers are Express: not billed per state)
    callback_transitions: float  # the job's callback wait: a Standard polling design, which polls itself, has none
    loop_transitions_per_poll: float  # the poll loop's states per poll (from the pollers), were it Standard
    guard_states_per_poll: float  # the poller's states between Wait and check (0: no guard, see this_design)
    poller_executions: float  # Express requests: the first poller and its hand-overs
    poller_seconds: float  # their measured duration (local, at the run's time scale), for reference
    invocations: dict[str, float]  # per job, by handler module, check_status excluded
    seconds: dict[str, float]  # median duration of one invocation, by handler module
    api_requests: float
    ddb_common: tuple[float, float]  # (write units, read units) on JOB# records
    ddb_webhook: tuple[float, float]  # on TASK# records (token, webhook status and ids): only the webhook needs them
    s3_put: float
    s3_get: float
    secrets_calls: float
    vendor_calls: float  # per job, status polls excluded


@dataclass
class Usage:
    transitions: float = 0.0
    express_requests: float = 0.0
    express_gb_seconds: float = 0.0
    lambda_gb_seconds: float = 0.0
    lambda_requests: float = 0.0
    api_requests: float = 0.0
    write_units: float = 0.0
    read_units: float = 0.0
    s3_gb_months: float = 0.0
    s3_put: float = 0.0
    s3_get: float = 0.0
    secrets_calls: float = 0.0
    vendor_calls: float = 0.0  # not an AWS charge: shown because the vendor asks for a polling_interval
    time_to_result: float = 0.0
    polling_interval: float = 0.0
    notes: list[str] = field(default_factory=list)

    def invoke(self, memory_mb: int, seconds: float, count: float = 1.0) -> None:
        billed = math.ceil(seconds * 1000) / 1000  # Lambda bills whole milliseconds
        self.lambda_gb_seconds += count * memory_mb / 1024 * billed
        self.lambda_requests += count

    def express(self, memory_mb: int, seconds: float, count: float = 1.0) -> None:
        """`count` Express executions sharing `seconds` (hand-overs split one wait), each billed in 100 ms steps."""
        billed = math.ceil(seconds / count * 10) / 10 if count else 0.0
        self.express_gb_seconds += count * memory_mb / 1024 * billed
        self.express_requests += count


def costs(usage: Usage, p: Prices) -> dict[str, float]:
    """USD per job, by service."""
    return {
        "Step Functions Standard": usage.transitions * p.transition,
        "Step Functions Express": usage.express_requests * p.express_request
        + usage.express_gb_seconds * p.express_gb_second,
        "Lambda": usage.lambda_gb_seconds * p.gb_second + usage.lambda_requests * p.lambda_request,
        "API Gateway": usage.api_requests * p.api_request,
        "DynamoDB": usage.write_units * p.write_unit + usage.read_units * p.read_unit,
        "S3": usage.s3_gb_months * p.gb_month + usage.s3_put * p.s3_put + usage.s3_get * p.s3_get,
        "Secrets Manager": usage.secrets_calls * p.secrets_call,
    }


def total(usage: Usage, p: Prices) -> float:
    return sum(costs(usage, p).values())


def _common(profile: PathProfile, facts: TemplateFacts, a: Assumptions, video_seconds: float) -> Usage:
    """What every design does alike: start (validate, check faces, upload inputs to the vendor, create the task),
    copy the result (Finalize), keep the media in S3 for the template's retention periods."""
    usage = Usage()
    input_mb = a.video_mb_per_second * video_seconds + a.face_mb
    result_mb = a.result_mb_per_second * video_seconds
    start, finalize = facts.memory_mb["start_job"], facts.memory_mb["finalize"]
    usage.invoke(start, profile.seconds["start_job"] + input_mb / a.transfer_mb_per_second,
                 profile.invocations.get("start_job", 1.0))
    if "start_job_event" in profile.invocations:  # the video's own upload event, which starts nothing
        usage.invoke(start, profile.seconds["start_job_event"], profile.invocations["start_job_event"])
    if "detect_faces" in profile.invocations:  # the face pre-check, when deployed (faceswap:face_precheck)
        usage.invoke(facts.memory_mb["detect_faces"], profile.seconds["detect_faces"],
                     profile.invocations["detect_faces"])
    usage.invoke(finalize, profile.seconds["finalize"] + result_mb / a.transfer_mb_per_second,
                 profile.invocations.get("finalize", 1.0))
    usage.s3_gb_months = (input_mb * facts.inputs_retention_days + result_mb * facts.results_retention_days) / 30 / 1e3
    usage.s3_put, usage.s3_get, usage.secrets_calls = profile.s3_put, profile.s3_get, profile.secrets_calls
    usage.write_units, usage.read_units = profile.ddb_common
    usage.vendor_calls = profile.vendor_calls
    return usage


def polls_until_final(processing: float, interval: float) -> float:
    """A poll loop ends at its first poll after the task finished: on average half an interval after it (the
    loop's phase is arbitrary), so processing / interval + 1/2 polls."""
    return processing / interval + 0.5


def _poll(usage: Usage, profile: PathProfile, facts: TemplateFacts, a: Assumptions, polls: float) -> None:
    usage.invoke(facts.memory_mb["check_status"], profile.seconds["check_status"] + a.vendor_rtt_seconds, polls)
    usage.vendor_calls += polls


def polls_after_webhook(webhook: PathProfile) -> int:
    """The poller outlives a job that the webhook ended, to its first round after the task finished. With a guard
    before each poll (is the job still waiting?) that round stops at the guard; without one it polls once more,
    sees the final status, and its signal is refused."""
    return 0 if webhook.guard_states_per_poll else 1


def poller_seconds(webhook: PathProfile, a: Assumptions, processing: float) -> float:
    """The Express poller's duration per job: to that first round after the task finished, on average half an
    interval after it, plus the round's last step (the guard, or the check and its vendor round trip)."""
    last_step = (a.sfn_call_seconds if not polls_after_webhook(webhook)
                 else webhook.seconds["check_status"] + a.vendor_rtt_seconds)
    return processing + a.polling_interval / 2 + last_step


def this_design(webhook: PathProfile, facts: TemplateFacts, a: Assumptions, video_seconds: float,
                time_to_result: float) -> Usage:
    """The job (Standard) waits for its token; its poller (Express) polls every polling_interval meanwhile and the
    webhook short-circuits the wait."""
    processing = a.processing_seconds(video_seconds)
    usage = _common(webhook, facts, a, video_seconds)
    usage.transitions = webhook.transitions  # no per-poll Standard transitions: the loop runs in the poller
    pollers = max(webhook.poller_executions, math.ceil(processing / a.hand_over_seconds))
    usage.express(a.express_memory_mb, poller_seconds(webhook, a, processing), pollers)
    # Each poller execution first stores the token for the webhook (a hand-over stores it again).
    usage.invoke(facts.memory_mb["store_token"], webhook.seconds["store_token"], pollers)
    usage.invoke(facts.memory_mb["webhook"], webhook.seconds["webhook"], webhook.invocations.get("webhook", 0.0))
    # The polls before the task finished (processing / interval - 1/2 on average), and any after the webhook.
    _poll(usage, webhook, facts, a, polls_until_final(processing, a.polling_interval) - 1
          + polls_after_webhook(webhook))
    usage.api_requests = webhook.api_requests
    usage.write_units += webhook.ddb_webhook[0]
    usage.read_units += webhook.ddb_webhook[1]
    usage.time_to_result, usage.polling_interval = time_to_result, a.polling_interval
    return usage


def polling_only(polling: PathProfile, facts: TemplateFacts, a: Assumptions, video_seconds: float,
                 interval: float, time_to_result: float) -> Usage:
    """A classic Standard design: the job's own Wait -> Check status -> Task finished? loop, then the same
    Finalize. No callback wait, no Express poller, no webhook, no token records."""
    polls = polls_until_final(a.processing_seconds(video_seconds), interval)
    usage = _common(polling, facts, a, video_seconds)
    usage.transitions = (polling.transitions - polling.callback_transitions
                         + polling.loop_transitions_per_poll * polls)
    _poll(usage, polling, facts, a, polls)
    usage.time_to_result, usage.polling_interval = time_to_result, interval
    return usage


def sleeping_lambda(webhook: PathProfile, facts: TemplateFacts, a: Assumptions, video_seconds: float,
                    interval: float, time_to_result: float) -> Usage:
    """One invocation (at this design's polling function's memory) that polls and sleeps until the task is
    final, then the same Finalize. No state machine, no webhook."""
    processing = a.processing_seconds(video_seconds)
    usage = _common(webhook, facts, a, video_seconds)
    usage.invoke(facts.memory_mb["check_status"], processing + interval / 2 + a.vendor_rtt_seconds)
    usage.vendor_calls += math.ceil(processing / interval)
    usage.time_to_result, usage.polling_interval = time_to_result, interval
    return usage
