"""The AWS bill of one job, for three designs, from measured counts plus explicitly modelled quantities.

Measured (bench.cost, from real local runs): state transitions (execution histories), Lambda invocations and
their durations, API Gateway requests, DynamoDB / S3 / Secrets Manager requests (moto's request recorder) and the
vendor calls per job. Read from the synthesized template: memory sizes and S3 retention days.
Modelled here, and printed with the results: the vendor's processing time per video length, media sizes, the
transfer rate of real media and the vendor's round trip per status call.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

PRICES_FILE = Path(__file__).with_name("prices.json")
MB = 1e6


@dataclass(frozen=True)
class Prices:
    transition: float
    gb_second: float
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

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        raw = json.loads(path.read_text())
        return cls(raw["step_functions_standard_per_state_transition"], raw["lambda_x86_per_gb_second"],
                   raw["lambda_per_request"], raw["api_gateway_rest_per_request"],
                   raw["dynamodb_on_demand_per_write_request_unit"], raw["dynamodb_on_demand_per_read_request_unit"],
                   raw["s3_standard_per_gb_month"], raw["s3_put_copy_post_list_per_request"],
                   raw["s3_get_and_other_per_request"], raw["secrets_manager_per_api_call"], raw["checked"],
                   raw["region"])


@dataclass(frozen=True)
class Assumptions:
    """What is modelled rather than measured (the vendor's real timings are not published)."""

    processing_base_seconds: float = 10.0  # vendor processing = base + per_video_second x video length:
    processing_per_video_second: float = 2.5  # 10 s -> 35 s, 30 s -> 85 s (its own client gives up at 100 s)
    race_polling_interval: float = 5.0  # the vendor's default polling_interval, used by the race's polling branch
    vendor_rtt_seconds: float = 0.2  # one status call from Lambda to the vendor, added to each poll's duration
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


@dataclass(frozen=True)
class PathProfile:
    """Per job, averaged over the recorded local runs of one path (webhook or polling-only)."""

    transitions_base: float  # state transitions with zero polls
    transitions_per_poll: float
    race_only_transitions: float  # states that exist only because of the race (absent from a pure polling design)
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


def costs(usage: Usage, p: Prices) -> dict[str, float]:
    """USD per job, by service."""
    return {
        "Step Functions": usage.transitions * p.transition,
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


def _poll(usage: Usage, profile: PathProfile, facts: TemplateFacts, a: Assumptions, polls: float) -> None:
    usage.invoke(facts.memory_mb["check_status"], profile.seconds["check_status"] + a.vendor_rtt_seconds, polls)
    usage.vendor_calls += polls


def this_design(webhook: PathProfile, facts: TemplateFacts, a: Assumptions, video_seconds: float,
                time_to_result: float, fallback_interval: float | None = None) -> Usage:
    """The race: the webhook ends the wait; meanwhile the polling branch polls every polling_interval."""
    interval = fallback_interval or a.race_polling_interval
    polls = math.floor(a.processing_seconds(video_seconds) / interval)
    usage = _common(webhook, facts, a, video_seconds)
    usage.transitions = webhook.transitions_base + webhook.transitions_per_poll * polls
    for module in ("await_webhook", "webhook"):
        usage.invoke(facts.memory_mb[module], webhook.seconds[module], webhook.invocations.get(module, 0.0))
    _poll(usage, webhook, facts, a, polls)
    usage.api_requests = webhook.api_requests
    usage.write_units += webhook.ddb_webhook[0]
    usage.read_units += webhook.ddb_webhook[1]
    usage.time_to_result, usage.polling_interval = time_to_result, interval
    return usage


def polling_only(polling: PathProfile, facts: TemplateFacts, a: Assumptions, video_seconds: float,
                 interval: float, time_to_result: float) -> Usage:
    """Step Functions Wait -> Check status loop, no webhook branch (no race states, no token records)."""
    polls = math.ceil(a.processing_seconds(video_seconds) / interval)
    usage = _common(polling, facts, a, video_seconds)
    usage.transitions = (polling.transitions_base - polling.race_only_transitions
                         + polling.transitions_per_poll * polls)
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
