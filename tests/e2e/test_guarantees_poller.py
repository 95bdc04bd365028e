"""The poller, an Express workflow, is a failure domain of its own. Guarantees: it hands the token and the poll
count over to a fresh poller before Express's 5-minute limit; it polls on through vendor 429/5xx; and a job whose
poller died fails at its heartbeat timeout with an error.json that says so, instead of waiting for hours."""

from __future__ import annotations

import json
from typing import Any

from faceswap.layout import poller_name
from local.eventually import eventually
from local.pipeline import LocalPipeline, function_environment
from tests.e2e.guarantees import wait_for_job
from tests.media import Media

CHECK_STATUS = "PipelineJobWorkflowCheckStatus"


def test_pollers_hand_over_before_the_express_limit_and_keep_counting(pipeline: LocalPipeline, media: Media) -> None:
    # 4 s between polls (0.2 s at the tests' time scale): at most 30 polls in the 6 s the task runs, under the stack's
    # limit of 40 however fast a hand-over is, and long enough for several pollers after the first, which may start
    # cold (each poll hands over). A 1 s interval relied on a slow harness to stay under the limit.
    pipeline.emulator.config.polling_interval_seconds = 4
    pipeline.emulator.set_faults(webhook_drop=True, processing_delay_seconds=6)
    with function_environment(pipeline, CHECK_STATUS, POLLER_HAND_OVER_SECONDS="0"):  # every poll hands over
        job = pipeline.submit("g-hand-over", media.clip, media.face)
        view = wait_for_job(pipeline, job)

    assert view.execution_status == "SUCCEEDED" and view.output_key, view.error
    assert pipeline.ended_by(job) == "polling"
    polls = pipeline.entered_states(job).count("Check task status")
    assert [e["name"] for e in pipeline.pollers(job)] == [f"{job}_{n}" for n in range(polls)]
    assert polls >= 3  # one poll each, then the next poller
    inputs = [json.loads(events[0]["executionStartedEventDetails"]["input"])
              for events in pipeline.poller_histories(job)]
    assert [i["poll"]["count"] for i in inputs] == list(range(polls))  # the count went on
    signal = pipeline.wait_signal(job)
    assert signal is not None and signal["count"] == polls
    stats = pipeline.emulator.stats()
    assert stats["tasks_created"] == stats["units_charged"] == 1


def test_polling_goes_on_through_vendor_errors(pipeline: LocalPipeline, media: Media) -> None:
    emulator = pipeline.emulator
    emulator.config.polling_interval_seconds = 1
    emulator.set_faults(webhook_drop=True, fault_route_prefix="GET /s2s/v2.0/task", rate_5xx=1.0, status_5xx=503)
    job = pipeline.submit("g-poll-5xx", media.clip, media.face)
    eventually(lambda: _check_results(pipeline, job)[2:] or None, 30, what="three checks")  # three polls saw the 503
    emulator.set_faults(rate_5xx=0.0)
    view = wait_for_job(pipeline, job)

    assert view.execution_status == "SUCCEEDED" and view.output_key, view.error
    assert pipeline.ended_by(job) == "polling"
    results = _check_results(pipeline, job)
    assert [r["status"] for r in results[:3]] == ["unavailable"] * 3 and results[-1]["final"] is True
    assert len(pipeline.poller_histories(job)) == 1  # one poller polled through it


def test_a_job_whose_poller_died_fails_at_its_heartbeat_timeout_saying_so(pipeline: LocalPipeline,
                                                                          media: Media) -> None:
    pipeline.emulator.set_faults(never_finish=True, webhook_drop=True)
    job = pipeline.submit("g-poller-lost", media.clip, media.face)
    eventually(lambda: _check_results(pipeline, job) or None, 30, what="a check")
    # As a crash or the Express limit would: the poller ends without handing the token back.
    sfn = pipeline.client("stepfunctions")
    (poller,) = [e for e in sfn.list_executions(stateMachineArn=pipeline.poller_arn)["executions"]
                 if e["name"] == poller_name(job, 0)]
    sfn.stop_execution(executionArn=poller["executionArn"])
    view = wait_for_job(pipeline, job, timeout=60)  # the 6-minute heartbeat timeout, time-scaled

    assert view.execution_status == "FAILED"
    assert view.error is not None and view.error["code"] == "poller_lost"
    assert "PollerExecutionsFailed" in view.error["what_to_fix"]
    record = pipeline.job_record(job)
    assert record is not None and record["state"]["S"] == "FAILED"


def _check_results(pipeline: LocalPipeline, job: str) -> list[dict[str, Any]]:
    """What each check-status invocation of one job answered, in order."""
    name = pipeline.stack.function_name(CHECK_STATUS)
    return [i.result for i in pipeline.stack.runtime.invocations
            if i.function_name == name and i.event["job_id"] == job and isinstance(i.result, dict)]
