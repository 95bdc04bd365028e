"""5. Cost model: the AWS bill per 1,000 jobs of this design beside a polling-only Step Functions design and a
Lambda that sleeps while polling, for 10 s and 30 s videos, at equal time to result. Target: this design is the
cheapest of the three. Counts are measured on the deployed local stack (see bench.cost_inputs); prices come from
bench/prices.json; what is modelled is listed in bench.cost_model.Assumptions and printed with the results."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from bench.context import BenchContext
from bench.cost_inputs import (
    Recorded,
    guard_states_per_poll,
    loop_transitions_per_poll,
    profile,
    record_batch,
    template_facts,
)
from bench.cost_model import (
    Assumptions,
    PathProfile,
    Prices,
    TemplateFacts,
    Usage,
    costs,
    polling_only,
    polls_after_webhook,
    sleeping_lambda,
    this_design,
    total,
)
from bench.jobs import POLLING, WEBHOOK, JobDriver
from bench.report import SectionResult, Target
from bench.stats import dollars, secs

NAME, TITLE = "cost", "5 Cost model"
VIDEO_LENGTHS = (10, 30)
JOBS = 1000
WEBHOOK_PROCESSING = [1.0, 2.0, 3.0]  # seconds: each webhook arrives before the poller's first round
POLLING_PROCESSING = [1.0, 6.0, 11.0]  # 1, 2 and 3 polls at the 5 s interval
SFN_MIN_WAIT = 1  # a Wait state waits whole seconds
BREAK_EVEN_VIDEO_SECONDS = 600  # how far the model is searched for the length from which this design is cheapest


@dataclass(frozen=True)
class EqualTimes:
    webhook: float  # this design's measured p50 time to result
    poll_overhead: float  # polling-only time to result beyond the wait for the next poll (measured)
    finalize: float  # one Finalize invocation (measured)
    polling_interval: int  # the polling-only design's interval that comes closest to `webhook`
    sleep_interval: float  # the sleeping Lambda's interval that matches `webhook`

    @property
    def polling_time(self) -> float:
        return self.polling_interval / 2 + self.poll_overhead

    @property
    def sleeping_time(self) -> float:
        return self.sleep_interval / 2 + self.finalize


def run(ctx: BenchContext) -> SectionResult:
    result = SectionResult(NAME, TITLE)
    assumed, facts = Assumptions(), template_facts(ctx.template())
    prices = Prices.load().on(facts.architecture)
    pipeline = ctx.pipeline()
    driver = JobDriver(pipeline, *ctx.media(), time_scale=ctx.options.time_scale,
                       polling_interval=assumed.polling_interval)
    if not ctx.smoke and "ttr" not in ctx.shared:  # warm the worker pools, as time to result does
        for path, processing in ((WEBHOOK, WEBHOOK_PROCESSING), (POLLING, POLLING_PROCESSING)):
            driver.run(path, processing, f"cost-warm-{path}", len(processing))
    batches = {WEBHOOK: WEBHOOK_PROCESSING[:1 if ctx.smoke else 3],
               POLLING: POLLING_PROCESSING[1:2 if ctx.smoke else 3]}
    webhook_rec = record_batch(pipeline, driver, WEBHOOK, batches[WEBHOOK], "cost-webhook")
    polling_rec = record_batch(pipeline, driver, POLLING, batches[POLLING], "cost-polling")
    per_poll, guard = loop_transitions_per_poll(polling_rec.runs), guard_states_per_poll(polling_rec.runs)
    polling = profile(polling_rec, per_poll, guard)
    webhook = profile(webhook_rec, per_poll, guard)
    # The webhook runs' pollers may end before they poll: a check costs what it costs in the polling-only runs.
    webhook = replace(webhook, seconds={**polling.seconds, **webhook.seconds})
    times = _equal_times(ctx, webhook_rec, polling_rec, webhook)
    result.add("Step Functions per job (measured)",
               f"{webhook.transitions:g} Standard transitions + {webhook.poller_executions:g} Express poller",
               f"polling SFN: {polling.transitions - polling.callback_transitions:g} + {per_poll:g} per poll")
    result.add("Time to result compared (p50)", f"this design {secs(times.webhook)}",
               f"polling SFN every {times.polling_interval} s: {secs(times.polling_time)}; sleeping Lambda "
               f"every {times.sleep_interval:.2f} s: {secs(times.sleeping_time)}")
    for seconds in VIDEO_LENGTHS:
        _compare(result, prices, assumed, facts, webhook, polling, times, seconds)
    _architectures(result, prices, assumed, facts, webhook, polling, times)
    _notes(result, prices, assumed, facts, webhook, polling, times, ctx)
    result.note(_measured_pollers({WEBHOOK: webhook, POLLING: polling}, batches, assumed, ctx.options.time_scale))
    return result


def _equal_times(ctx: BenchContext, webhook_rec: Recorded, polling_rec: Recorded, webhook: PathProfile) -> EqualTimes:
    """Equal time to result: the other designs poll just fast enough to match this design's measured p50."""
    shared = ctx.shared.get("ttr")
    webhook_runs = shared[WEBHOOK].runs if shared else webhook_rec.runs
    polling_runs = shared[POLLING].runs if shared else polling_rec.runs
    scale = ctx.options.time_scale
    target = statistics.median(r.seconds_at_scale_one(scale) for r in webhook_runs)
    overhead = statistics.median(r.local_seconds - r.wait_after_finish for r in polling_runs)
    finalize = webhook.seconds["finalize"]
    return EqualTimes(target, overhead, finalize, max(SFN_MIN_WAIT, math.floor(2 * (target - overhead))),
                      max(0.1, 2 * (target - finalize)))


def _designs(prices: Prices, a: Assumptions, facts: TemplateFacts, webhook: PathProfile, polling: PathProfile,
             times: EqualTimes, seconds: float) -> dict[str, Usage]:
    return {
        "this design": this_design(webhook, facts, a, seconds, times.webhook),
        "polling SFN": polling_only(polling, facts, a, seconds, times.polling_interval, times.polling_time),
        "sleeping Lambda": sleeping_lambda(webhook, facts, a, seconds, times.sleep_interval, times.sleeping_time),
    }


def _compare(result: SectionResult, prices: Prices, a: Assumptions, facts: TemplateFacts, webhook: PathProfile,
             polling: PathProfile, times: EqualTimes, seconds: int) -> None:
    designs = _designs(prices, a, facts, webhook, polling, times, seconds)
    bill = {name: total(usage, prices) * JOBS for name, usage in designs.items()}
    ours, rivals = bill["this design"], {k: v for k, v in bill.items() if k != "this design"}
    cheapest_rival = min(rivals, key=lambda k: rivals[k])
    met = ours < rivals[cheapest_rival]
    result.add(f"{seconds} s video (vendor {a.processing_seconds(seconds):g} s, modelled), per {JOBS:,} jobs",
               f"this design {dollars(ours)}",
               " / ".join(f"{name} {dollars(v)}" for name, v in rivals.items()),
               f"{ours / rivals[cheapest_rival]:.2f}", Target("cheapest", met, _why(
                   prices, a, facts, webhook, polling, times, designs, cheapest_rival, seconds)))
    calls = {name: usage.vendor_calls for name, usage in designs.items()}
    result.add(f"{seconds} s video: vendor API calls per job", f"this design {calls['this design']:.0f}",
               " / ".join(f"{k} {v:.0f}" for k, v in calls.items() if k != "this design"))
    for name, usage in designs.items():
        parts = ", ".join(f"{service} {dollars(v * JOBS)}" for service, v in costs(usage, prices).items() if v)
        result.note(f"{seconds} s video, {name} (polls every {usage.polling_interval:g} s, time to result "
                    f"{secs(usage.time_to_result)}): {dollars(bill[name])} per {JOBS:,} jobs = {parts}; "
                    f"{usage.transitions:g} Standard transitions, {usage.express_requests:g} Express requests "
                    f"({usage.express_gb_seconds:.3f} GB-s), {usage.lambda_requests:g} invocations "
                    f"({usage.lambda_gb_seconds:.3f} GB-s) per job")


def _architectures(result: SectionResult, prices: Prices, a: Assumptions, facts: TemplateFacts,
                   webhook: PathProfile, polling: PathProfile, times: EqualTimes) -> None:
    """This design's bill with its functions on each CPU that Lambda offers, at the same durations: the
    template's architecture (faceswap:architecture) should be the cheaper one."""
    seconds = VIDEO_LENGTHS[0]
    usage = _designs(prices, a, facts, webhook, polling, times, seconds)["this design"]
    bills = {arch: total(usage, prices.on(arch)) * JOBS for arch in sorted(prices.lambda_gb_second)}
    ours, other = bills[facts.architecture], min((v, k) for k, v in bills.items() if k != facts.architecture)
    lambda_share = costs(usage, prices)["Lambda"] * JOBS
    result.add(f"{seconds} s video: functions on {facts.architecture} (the template's)", f"this design {dollars(ours)}",
               f"on {other[1]} {dollars(other[0])}", f"{ours / other[0]:.2f}",
               Target("the cheaper architecture", ours <= other[0], (
                   f"{facts.architecture} costs {dollars(ours)} against {dollars(other[0])} on {other[1]}: set "
                   f"faceswap:architecture to {other[1]}")))
    result.note(f"Architecture: Lambda bills {', '.join(f'{k} ${v:.10f}' for k, v in prices.lambda_gb_second.items())}"
                f" per GB-second (requests alike); Lambda is {dollars(lambda_share)} of this design's "
                f"{dollars(ours)} per {JOBS:,} jobs ({seconds} s video). The durations are measured here on "
                "x86-64 and taken as equal on arm64: the functions mostly wait on S3, DynamoDB and the vendor.")


def _why(prices: Prices, a: Assumptions, facts: TemplateFacts, webhook: PathProfile, polling: PathProfile,
         times: EqualTimes, designs: dict[str, Usage], rival: str, seconds: int) -> str:
    """Why not, from the model: the services that make up the difference, and the vendor processing time from
    which this design would be the cheapest."""
    ours, theirs = costs(designs["this design"], prices), costs(designs[rival], prices)
    gaps = sorted(((ours[k] - theirs[k]) * JOBS, k) for k in ours)  # largest saving first, largest excess last
    more = [f"{k} (+{dollars(gap)}: {_detail(k, designs['this design'], designs[rival])})"
            for gap, k in reversed(gaps) if gap > 0]
    less = [f"{k} (-{dollars(-gap)})" for gap, k in gaps if gap < 0]
    why = (f"the {rival} costs {dollars(total(designs[rival], prices) * JOBS)} against "
           f"{dollars(total(designs['this design'], prices) * JOBS)}. Per {JOBS:,} jobs this design pays more for "
           f"{', '.join(more) or 'nothing'}; less for {', '.join(less) or 'nothing'}. ")
    rival_usage = designs[rival]
    if rival_usage.polling_interval < a.polling_interval:
        why += (f"To match the webhook's time to result the {rival} polls every {rival_usage.polling_interval:g} s "
                f"({rival_usage.vendor_calls:.0f} vendor calls per job) where the vendor asks for "
                f"{a.polling_interval:g} s: at the vendor's interval it would take ~{a.polling_interval / 2:g} s "
                "longer. ")
    why += _fewer_states(prices, designs["this design"], designs[rival])
    processing = _break_even(prices, a, facts, webhook, polling, times)
    if processing is None:
        return why + (f"The model finds no video length up to {BREAK_EVEN_VIDEO_SECONDS} s at which this design "
                      "is the cheapest.")
    return why + (f"The model first makes this design the cheapest at ~{processing:.0f} s of vendor processing "
                  f"(this length: {a.processing_seconds(seconds):g} s). The processing-time model is an assumption: "
                  "rerun with real vendor timings in bench/cost_model.py (Assumptions).")


def _detail(service: str, ours: Usage, rival: Usage) -> str:
    if service == "Step Functions Standard":
        return f"{ours.transitions:g} transitions per job against {rival.transitions:g}"
    if service == "Step Functions Express":
        return f"{ours.express_requests:g} poller per job, {ours.express_gb_seconds:.2f} GB-s"
    if service == "Lambda":
        return (f"{ours.lambda_requests:g} invocations, {ours.lambda_gb_seconds:.2f} GB-s per job against "
                f"{rival.lambda_requests:g}, {rival.lambda_gb_seconds:.2f} GB-s")
    return "per job, measured"


def _fewer_states(prices: Prices, ours: Usage, rival: Usage) -> str:
    """The other lever the model shows: Standard transitions are the job's fixed cost."""
    gap = total(ours, prices) - total(rival, prices)
    states = math.floor(gap / prices.transition) + 1
    if states >= ours.transitions:
        return ""
    return (f"Taking {states} state(s) off the job's Standard path ({dollars(prices.transition * JOBS)} per "
            f"{JOBS:,} jobs each) would meet it at this length. ")


def _break_even(prices: Prices, a: Assumptions, facts: TemplateFacts, webhook: PathProfile, polling: PathProfile,
                times: EqualTimes) -> float | None:
    """The shortest vendor processing time (in 0.1 s of video) at which this design is the cheapest."""
    for tenths in range(1, 10 * BREAK_EVEN_VIDEO_SECONDS + 1):
        designs = _designs(prices, a, facts, webhook, polling, times, tenths / 10)
        bill = {k: total(u, prices) for k, u in designs.items()}
        if bill["this design"] < min(v for k, v in bill.items() if k != "this design"):
            return a.processing_seconds(tenths / 10)
    return None


def _notes(result: SectionResult, prices: Prices, a: Assumptions, facts: TemplateFacts, webhook: PathProfile,
           polling: PathProfile, times: EqualTimes, ctx: BenchContext) -> None:
    result.notes[:0] = [
        f"Prices: bench/prices.json ({prices.region}, checked {prices.checked}); free tiers ignored.",
        "Measured on the deployed local stack, with moto's request recorder on: per job, the job's Standard state "
        "transitions (its history), the poller executions and their polls (the pollers' histories), Lambda "
        "invocations and durations (local warm workers), API Gateway requests, DynamoDB writes/reads, S3 "
        f"requests, Secrets Manager calls, vendor calls. Webhook path: {_counts(webhook)}. "
        f"Polling-only runs: {_counts(polling)}.",
        f"From the template: memory (MB) {', '.join(f'{m} {mb}' for m, mb in sorted(facts.memory_mb.items()))}; "
        f"inputs kept {facts.inputs_retention_days} days, results "
        f"{facts.results_retention_days} days (S3 lifecycle rules).",
        f"Modelled (not measured): vendor processing = {a.processing_base_seconds:g} s + "
        f"{a.processing_per_video_second:g} s per video second; input video {a.video_mb_per_second:g} MB/s of "
        f"video + {a.face_mb:g} MB face, result {a.result_mb_per_second:g} MB/s of video; real media moves at "
        f"{a.transfer_mb_per_second:g} MB/s (added to Start and Finalize); each status call adds "
        f"{a.vendor_rtt_seconds:g} s vendor round trip; one DynamoDB unit per request (items < 1 KB). A poll "
        "loop ends at its first poll after the task finished: processing / interval + 1/2 polls on average "
        "(this design's poller, when the webhook ends the wait: the polls before the task finished, processing / "
        "interval - 1/2, plus any after the webhook).",
        f"This design's Express poller (modelled): it runs from the job's start to its first round after the task "
        f"finished, processing + {a.polling_interval:g} s / 2 + that round's last step: "
        + (f"its poller asks whether the job still waits before each poll ({webhook.guard_states_per_poll:g} "
           f"state per poll between Wait and check, measured), so after the webhook that round ends at the "
           f"question ({a.sfn_call_seconds:g} s) without polling"
           if not polls_after_webhook(webhook) else
           "its poller has no guard before a poll, so after the webhook it polls once more (a check and its "
           "round trip) and its signal is refused")
        + f"; billed at {a.express_memory_mb} MB in 100 ms steps; one execution, plus one hand-over per "
        f"{a.hand_over_seconds:g} s of processing, each storing the token again (store_token). Its "
        "check_status invocations are billed as Lambda; its own states are not billed per transition.",
        f"Equal time to result: this design's measured p50 is {secs(times.webhook)}. Polling SFN (a Standard "
        f"job that polls in its own loop: {polling.transitions - polling.callback_transitions:g} + "
        f"{polling.loop_transitions_per_poll:g} transitions per poll): time to result ~ interval/2 + "
        f"{secs(times.poll_overhead)} measured overhead, and a Wait lasts whole seconds, so it polls every "
        f"{times.polling_interval} s (its best). Sleeping Lambda: interval/2 + Finalize "
        f"({secs(times.finalize)}), so it polls every {times.sleep_interval:.2f} s, much faster than the "
        f"vendor's {a.polling_interval:g} s polling_interval asks. The sleeping Lambda is billed at the "
        f"memory of this design's polling function ({facts.memory_mb['check_status']} MB) and its Finalize "
        "as here.",
    ]
    if ctx.smoke:
        result.note("Smoke run: one job per path, numbers are indicative only.")


def _measured_pollers(profiles: dict[str, PathProfile], batches: dict[str, list[float]], a: Assumptions,
                      scale: float) -> str:
    """For reference beside the modelled Express duration: what the recorded runs' pollers took."""
    parts = []
    for path, p in profiles.items():
        processing = batches[path]
        phases = ", ".join(f"{s % a.polling_interval:g}" for s in processing)
        parts.append(f"{path} {p.poller_executions:g} per job, {secs(p.poller_seconds)} per job for "
                     f"{statistics.mean(processing) * scale:g} s of vendor processing (tasks ending {phases} s into "
                     f"a {a.polling_interval:g} s interval)")
    return (f"Pollers measured (local seconds at time scale {scale:g}): {'; '.join(parts)}. A poller runs on to "
            "its first round after the task's end: the model's interval/2 is the average over all phases.")


def _counts(p: PathProfile) -> str:
    invocations = ", ".join(f"{m} {n:g}" for m, n in sorted(p.invocations.items()))
    return (f"Standard transitions {p.transitions:g}, poller executions {p.poller_executions:g}, invocations "
            f"{invocations} (+ check_status per poll), API {p.api_requests:g}, DynamoDB W/R common "
            f"{p.ddb_common[0]:g}/{p.ddb_common[1]:g} webhook-only {p.ddb_webhook[0]:g}/{p.ddb_webhook[1]:g}, "
            f"S3 PUT-class {p.s3_put:g} GET-class {p.s3_get:g}, Secrets {p.secrets_calls:g}, vendor "
            f"{p.vendor_calls:g} + polls")
