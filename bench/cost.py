"""5. Cost model: the AWS bill per 1,000 jobs of this design beside a polling-only Step Functions design and a
Lambda that sleeps while polling, for 10 s and 30 s videos, at equal time to result. Target: this design is the
cheapest of the three. Counts are measured on the deployed local stack (see bench.cost_inputs); prices come from
bench/prices.json; what is modelled is listed in bench.cost_model.Assumptions and printed with the results."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from bench.context import BenchContext
from bench.cost_inputs import Recorded, profile, record_batch, template_facts, transitions_per_poll
from bench.cost_model import (
    Assumptions,
    PathProfile,
    Prices,
    TemplateFacts,
    Usage,
    costs,
    polling_only,
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
WEBHOOK_PROCESSING = [1.0, 2.0, 3.0]  # seconds: each webhook arrives before the first poll
POLLING_PROCESSING = [1.0, 6.0, 11.0]  # 1, 2 and 3 polls at the 5 s interval
FALLBACK_CANDIDATES = (10, 15, 20, 30, 45, 60, 90, 120, 300, 600)
SFN_MIN_WAIT = 1  # a Wait state waits whole seconds


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
    prices, assumed, facts = Prices.load(), Assumptions(), template_facts(ctx.template())
    pipeline = ctx.pipeline()
    driver = JobDriver(pipeline, *ctx.media(), time_scale=ctx.options.time_scale,
                       polling_interval=assumed.race_polling_interval)
    if not ctx.smoke and "ttr" not in ctx.shared:  # warm the worker pools, as time to result does
        for path, processing in ((WEBHOOK, WEBHOOK_PROCESSING), (POLLING, POLLING_PROCESSING)):
            driver.run(path, processing, f"cost-warm-{path}", len(processing))
    webhook_rec = record_batch(pipeline, driver, WEBHOOK, WEBHOOK_PROCESSING[:1 if ctx.smoke else 3], "cost-webhook")
    polling_rec = record_batch(pipeline, driver, POLLING, POLLING_PROCESSING[1:2 if ctx.smoke else 3], "cost-polling")
    per_poll = transitions_per_poll(polling_rec.runs)
    polling = profile(polling_rec, per_poll)
    webhook = profile(webhook_rec, per_poll)
    # The webhook runs ended before their first poll: a poll costs what it costs in the polling-only runs.
    webhook = replace(webhook, seconds={**polling.seconds, **webhook.seconds})
    times = _equal_times(ctx, webhook_rec, polling_rec, webhook)
    result.add("State transitions per job (measured)", f"{webhook.transitions_base:g} + {per_poll:g} per poll",
               f"polling-only run: {polling.transitions_base:g} + {per_poll:g} per poll")
    result.add("Time to result compared (p50)", f"this design {secs(times.webhook)}",
               f"polling SFN every {times.polling_interval} s: {secs(times.polling_time)}; sleeping Lambda "
               f"every {times.sleep_interval:.2f} s: {secs(times.sleeping_time)}")
    for seconds in VIDEO_LENGTHS:
        _compare(result, prices, assumed, facts, webhook, polling, times, seconds)
    _notes(result, prices, assumed, facts, webhook, polling, times, ctx)
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
             times: EqualTimes, seconds: int) -> dict[str, Usage]:
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
                   prices, a, facts, webhook, designs, bill, cheapest_rival, seconds)))
    calls = {name: usage.vendor_calls for name, usage in designs.items()}
    result.add(f"{seconds} s video: vendor API calls per job", f"this design {calls['this design']:.0f}",
               " / ".join(f"{k} {v:.0f}" for k, v in calls.items() if k != "this design"))
    for name, usage in designs.items():
        parts = ", ".join(f"{service} {dollars(v * JOBS)}" for service, v in costs(usage, prices).items() if v)
        result.note(f"{seconds} s video, {name} (polls every {usage.polling_interval:g} s, time to result "
                    f"{secs(usage.time_to_result)}): {dollars(bill[name])} per {JOBS:,} jobs = {parts}; "
                    f"{usage.transitions:g} transitions, {usage.lambda_requests:g} invocations, "
                    f"{usage.lambda_gb_seconds:.3f} GB-s per job")


def _why(prices: Prices, a: Assumptions, facts: TemplateFacts, webhook: PathProfile, designs: dict[str, Usage],
         bill: dict[str, float], rival: str, seconds: int) -> str:
    ours = designs["this design"]
    sfn = costs(ours, prices)["Step Functions"] * JOBS
    memory = facts.memory_mb["check_status"]
    why = (f"the {rival} costs {dollars(bill[rival])} against {dollars(bill['this design'])}: this design pays "
           f"{ours.transitions:g} state transitions per job ({dollars(sfn)} per {JOBS:,} jobs), "
           f"{webhook.transitions_per_poll:g} for every {a.race_polling_interval:g} s poll of its fallback branch "
           f"while the vendor works, whereas a {memory} MB Lambda sleeps for "
           f"${prices.gb_second * memory / 1024 * JOBS:.4f} per second per {JOBS:,} jobs. ")
    rival_usage = designs[rival]
    if rival_usage.polling_interval < a.race_polling_interval:
        why += (f"To match the webhook's time to result it polls every {rival_usage.polling_interval:g} s "
                f"({rival_usage.vendor_calls:.0f} vendor calls per job) where the vendor asks for "
                f"{a.race_polling_interval:g} s: at the vendor's interval it would take ~"
                f"{a.race_polling_interval / 2:g} s longer. ")
    for interval in FALLBACK_CANDIDATES:
        slower = this_design(webhook, facts, a, seconds, ours.time_to_result, fallback_interval=interval)
        if total(slower, prices) * JOBS < min(v for k, v in bill.items() if k != "this design"):
            return why + (f"Polling the fallback branch every {interval} s (the webhook keeps the time to result; "
                          "only a lost webhook waits longer) would make it the cheapest for this length.")
    return why + ("No fallback polling interval is enough at this length: the race's fixed transitions alone cost "
                  "more than the sleeping Lambda; only fewer states per job (or longer vendor processing) would.")


def _notes(result: SectionResult, prices: Prices, a: Assumptions, facts: TemplateFacts, webhook: PathProfile,
           polling: PathProfile, times: EqualTimes, ctx: BenchContext) -> None:
    result.notes[:0] = [
        f"Prices: bench/prices.json ({prices.region}, checked {prices.checked}); free tiers ignored.",
        "Measured on the deployed local stack, with moto's request recorder on: per job, state transitions "
        "(histories), Lambda invocations and durations (local warm workers), API Gateway requests, DynamoDB "
        f"writes/reads, S3 requests, Secrets Manager calls, vendor calls. Webhook path: {_counts(webhook)}. "
        f"Polling-only runs: {_counts(polling)}.",
        f"From the template: memory (MB) {', '.join(f'{m} {mb}' for m, mb in sorted(facts.memory_mb.items()))}; "
        f"inputs kept {facts.inputs_retention_days} days, results "
        f"{facts.results_retention_days} days (S3 lifecycle rules).",
        f"Modelled (not measured): vendor processing = {a.processing_base_seconds:g} s + "
        f"{a.processing_per_video_second:g} s per video second; input video {a.video_mb_per_second:g} MB/s of "
        f"video + {a.face_mb:g} MB face, result {a.result_mb_per_second:g} MB/s of video; real media moves at "
        f"{a.transfer_mb_per_second:g} MB/s (added to Start and Finalize); each status call adds "
        f"{a.vendor_rtt_seconds:g} s vendor round trip; one DynamoDB unit per request (items < 1 KB).",
        f"Equal time to result: this design's measured p50 is {secs(times.webhook)}. Polling-only SFN: time to "
        f"result ~ interval/2 + {secs(times.poll_overhead)} measured overhead, and a Wait lasts whole seconds, so "
        f"it polls every {times.polling_interval} s (its best). Sleeping Lambda: interval/2 + Finalize "
        f"({secs(times.finalize)}), so it polls every {times.sleep_interval:.2f} s, much faster than the "
        f"vendor's {a.race_polling_interval:g} s polling_interval asks. The sleeping Lambda is billed at the "
        f"memory of this design's polling function ({facts.memory_mb['check_status']} MB) and its Finalize "
        "as here.",
    ]
    if ctx.smoke:
        result.note("Smoke run: one job per path, numbers are indicative only.")


def _counts(p: PathProfile) -> str:
    invocations = ", ".join(f"{m} {n:g}" for m, n in sorted(p.invocations.items()))
    return (f"{p.transitions_base:g} transitions + {p.transitions_per_poll:g}/poll, invocations {invocations} "
            f"(+ check_status per poll), API {p.api_requests:g}, DynamoDB W/R common {p.ddb_common[0]:g}/"
            f"{p.ddb_common[1]:g} webhook-only {p.ddb_webhook[0]:g}/{p.ddb_webhook[1]:g}, S3 PUT-class "
            f"{p.s3_put:g} GET-class {p.s3_get:g}, Secrets {p.secrets_calls:g}, vendor {p.vendor_calls:g} + polls")
