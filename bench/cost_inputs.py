"""Turn recorded local runs into the per-job counts the cost model needs: one PathProfile per path.

A batch of jobs runs with moto's request recorder on; afterwards every recorded request is classified by the
service in its SigV4 credential scope. The user's own uploads (anything the pipeline did not write: it only writes
under results/) and the free calls (Lambda Invoke by Step Functions, Step Functions API) are left out; Lambda
invocations come from the local runtime, API Gateway requests from the local API front, vendor calls from the
emulator's counters.
"""

from __future__ import annotations

import base64
import json
import os
import re
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from bench.cost_model import PathProfile, TemplateFacts
from bench.jobs import POLL_CHECK, POLL_WAIT, JobDriver, JobRun
from local.pipeline import LocalPipeline

# State names of infra/workflow.py: the poller's loop (one round per poll), and the job's callback wait, which a
# Standard design that polls in its own loop would not have.
LOOP_STATES = (POLL_WAIT, POLL_CHECK, "Task finished?")
CALLBACK_STATES = ("Wait for the vendor task",)
_SCOPE = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request")
DDB_WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass
class Recorded:
    runs: list[JobRun]
    invocations: list[tuple[str, float]]  # (module, seconds); start_job split into start_job / start_job_event
    requests: list[dict[str, Any]]  # moto's recorder entries
    api_requests: int
    vendor_requests: int


def record_batch(pipeline: LocalPipeline, driver: JobDriver, path: str, processing: list[float],
                 prefix: str) -> Recorded:
    from moto.moto_api import recorder

    runtime, api = pipeline.stack.runtime, pipeline.stack.api
    modules = _modules_by_function_name(pipeline)
    first_invocation, first_api = len(runtime.invocations), len(api.requests)
    recorder.reset_recording()
    recorder.start_recording()
    try:
        job_ids = driver.submit(path, processing, prefix, in_flight=len(processing), own_video=True)
        driver.wait_for_pollers(job_ids)  # on the webhook path they poll once more after the job's end
        time.sleep(0.5)  # the executions' last steps after status.json
    finally:
        recorder.stop_recording()
    entries = [json.loads(line) for line in recorder.download_recording().splitlines() if line.strip()]
    recorder.reset_recording()
    Path(os.environ.get("MOTO_RECORDER_FILEPATH", "moto_recording")).unlink(missing_ok=True)
    vendor = sum(n for route, n in pipeline.emulator.stats()["requests"].items() if "/_emulator/" not in route)
    invocations = [(_module_of(modules[i.function_name], i.event), i.duration_s)
                   for i in runtime.invocations[first_invocation:]
                   if i.function_name in modules and _of_batch(modules[i.function_name], i.event, prefix)]
    api_count = sum(1 for method, _, _ in api.requests[first_api:] if method == "POST")
    return Recorded(driver.collect(job_ids, path), invocations, entries, api_count, vendor)


def _modules_by_function_name(pipeline: LocalPipeline) -> dict[str, str]:
    template = pipeline.stack.deployed.template["Resources"]
    names = {}
    for logical_id, resource in template.items():
        handler = str(resource.get("Properties", {}).get("Handler", ""))
        if resource["Type"] == "AWS::Lambda::Function" and handler.endswith(".app.lambda_handler"):
            names[pipeline.stack.deployed.resources[logical_id]] = handler.split(".")[0]
    return names


def _of_batch(module: str, event: Any, prefix: str) -> bool:
    """Upload events from before the batch (the shared clip) may still be running when it starts."""
    return module != "start_job" or prefix in json.dumps(event)


def _module_of(module: str, event: Any) -> str:
    """The start function runs for two events per job: the video's upload (which finds no manifest yet or
    names no job) and the manifest's (the real start). They cost very differently."""
    if module != "start_job" or not isinstance(event, dict):
        return module
    bodies = [json.loads(r["body"]) for r in event.get("Records", []) if "body" in r]  # the start queue's
    if any("job" in body for body in bodies):  # a job that admission sent back: a start attempt of its own
        return "start_job"
    records = [r for body in bodies for r in body.get("Records", [])] or event.get("Records", [])
    keys = [r.get("s3", {}).get("object", {}).get("key", "") for r in records]
    return "start_job" if any(unquote(k).startswith("jobs/") for k in keys) else "start_job_event"


def profile(rec: Recorded, loop_per_poll: float, guard_per_poll: float) -> PathProfile:
    """`loop_per_poll` and `guard_per_poll` come from the polling-only runs, whose pollers always poll."""
    n = len(rec.runs)
    by_module: dict[str, list[float]] = {}
    for module, seconds in rec.invocations:
        by_module.setdefault(module, []).append(seconds)
    polls = sum(r.polls for r in rec.runs)
    requests = classify(rec.requests)
    return PathProfile(
        transitions=statistics.mean(r.transitions for r in rec.runs),
        callback_transitions=statistics.mean(sum(r.states.count(s) for s in CALLBACK_STATES) for r in rec.runs),
        loop_transitions_per_poll=loop_per_poll,
        guard_states_per_poll=guard_per_poll,
        poller_executions=statistics.mean(r.pollers for r in rec.runs),
        poller_seconds=statistics.mean(r.poller_seconds for r in rec.runs),
        invocations={m: len(v) / n for m, v in by_module.items() if m != "check_status"},
        seconds={m: statistics.median(v) for m, v in by_module.items()},
        api_requests=rec.api_requests / n,
        ddb_common=(requests["ddb_common_write"] / n, requests["ddb_common_read"] / n),
        ddb_webhook=(requests["ddb_webhook_write"] / n, requests["ddb_webhook_read"] / n),
        s3_put=requests["s3_put"] / n, s3_get=requests["s3_get"] / n, secrets_calls=requests["secrets"] / n,
        vendor_calls=(rec.vendor_requests - polls) / n,
    )


def loop_transitions_per_poll(polling: list[JobRun]) -> float:
    """Measured from the polling-only runs' poller histories: states entered in the loop, per poll. Also the guard
    against renamed states, which would otherwise be counted as zero."""
    missing = ([s for s in CALLBACK_STATES if not any(s in r.states for r in polling)]
               + [s for s in LOOP_STATES if not any(s in r.poller_states for r in polling)])
    if missing:
        raise RuntimeError(f"states {missing} not in the polling-only histories (job, pollers): update "
                           "bench/cost_inputs.py and bench/jobs.py to the state names of infra/workflow.py")
    if any(r.ended_by != "polling" for r in polling):  # else their wait after the task's end is not measured
        raise RuntimeError(f"polling-only runs not ended by polling: {[(r.job_id, r.ended_by) for r in polling]}")
    polled = [r for r in polling if r.polls]
    if not polled:
        raise RuntimeError("no polling-only run polled: cannot measure the loop's transitions")
    return statistics.mean(sum(r.poller_states.count(s) for s in LOOP_STATES) / r.polls for r in polled)


def guard_states_per_poll(polling: list[JobRun]) -> float:
    """States a poller enters between its Wait and its check, per poll (polling-only runs): a guard such as asking
    whether the job still waits, which stops a poller whose job the webhook ended before it polls again."""
    between = []
    for run in (r for r in polling if r.polls):
        count, waited = 0, False
        for state in run.poller_states:
            if state in (POLL_WAIT, POLL_CHECK):
                waited = state == POLL_WAIT
            elif waited:
                count += 1
        between.append(count / run.polls)
    return statistics.mean(between) if between else 0.0


def classify(entries: list[dict[str, Any]]) -> defaultdict[str, float]:
    counts: defaultdict[str, float] = defaultdict(float)
    for entry in entries:
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        scope = _SCOPE.search(headers.get("authorization", ""))
        service = scope.group(1) if scope else ""
        if service == "dynamodb":
            _count_dynamodb(counts, headers.get("x-amz-target", ""), _json_body(entry))
        elif service == "s3":
            _count_s3(counts, entry["method"], urlparse(entry["url"]))
        elif service == "secretsmanager":
            counts["secrets"] += 1
    return counts


def _json_body(entry: dict[str, Any]) -> dict[str, Any]:
    raw = entry.get("body") or "{}"
    text = base64.b64decode(raw).decode() if entry.get("body_encoded") else raw
    return dict(json.loads(text))


def _count_dynamodb(counts: defaultdict[str, float], target: str, body: dict[str, Any]) -> None:
    """One unit per write (items under 1 KB), one per consistent read and half an eventually consistent one
    (items under 4 KB). JOB# records are common to every design; the rest serve only the webhook."""
    operation = target.rsplit(".", 1)[-1]
    key = body.get("Key") or body.get("Item") or {}
    kind = "common" if str(key.get("pk", {}).get("S", "")).startswith("JOB#") else "webhook"
    if operation in DDB_WRITES:
        counts[f"ddb_{kind}_write"] += 1
    elif operation == "GetItem":
        counts[f"ddb_{kind}_read"] += 1.0 if body.get("ConsistentRead") else 0.5


def _count_s3(counts: defaultdict[str, float], method: str, url: Any) -> None:
    parts = url.path.lstrip("/").split("/", 1)
    key = unquote(parts[1]) if len(parts) > 1 else ""
    if method == "PUT" and key and not key.startswith("results/"):
        return  # the user's own uploads: the same in every design, not the pipeline's
    if method in ("PUT", "POST") or (method == "GET" and not key):
        counts["s3_put"] += 1  # PUT, COPY, POST and LIST are priced alike
    elif method in ("GET", "HEAD"):
        counts["s3_get"] += 1


def template_facts(template: dict[str, Any]) -> TemplateFacts:
    memory: dict[str, int] = {}
    architectures: set[str] = set()
    inputs_days = results_days = 0
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        handler = str(props.get("Handler", ""))
        if resource["Type"] == "AWS::Lambda::Function" and handler.endswith(".app.lambda_handler"):
            memory[handler.split(".")[0]] = int(props.get("MemorySize", 128))
            architectures.update(props.get("Architectures", ["x86_64"]))
        for rule in (props.get("LifecycleConfiguration") or {}).get("Rules", []):
            if rule.get("Prefix") == "results/":
                results_days = int(rule["ExpirationInDays"])
            elif rule.get("Prefix") == "videos/":
                inputs_days = int(rule["ExpirationInDays"])
    if not memory or not inputs_days or not results_days or len(architectures) != 1:
        raise RuntimeError("the template lacks function memory sizes or the media bucket's expiration rules, or its "
                           f"functions do not share one architecture ({sorted(architectures)})")
    return TemplateFacts(memory, inputs_days, results_days, architectures.pop())
