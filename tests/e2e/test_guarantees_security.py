"""Guarantee: security posture at run time (the template side is in tests/infra/test_guarantees_template.py).

- Body size limits: the webhook function answers 413 over 64 KiB; the API front (like API Gateway) over 10 MB.
- Secret rotation: with 'whsec_NEW whsec_OLD' in the webhook secret both are accepted, then with 'whsec_NEW' alone
  only the new one. Functions cache secrets for 5 minutes in a warm container (Powertools' cache); the knob is
  Powertools' own POWERTOOLS_PARAMETERS_MAX_AGE, set to 0 here on the webhook function so the test sees each change
  at once (in production a rotation step takes effect within 5 minutes — keep both secrets at least that long).
- No secret anywhere a person or a log pipeline reads: not in the template, not in any function's environment, not
  in any log line of any function, not in the result files — checked after runs that included failures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.pipeline import LocalPipeline, function_environment
from tests.e2e.guarantees import (
    WEBHOOK,
    outcome,
    post_webhook,
    random_secret,
    signed,
    wait_for_job,
    webhook_body,
)
from tests.media import Media

KIB = 1024


def test_webhook_bodies_over_64_kib_get_413_and_over_10_mb_never_reach_the_function(pipeline: LocalPipeline) -> None:
    secret = pipeline.emulator.config.webhook_secret
    at_limit = _padded(64 * KIB)
    assert outcome(post_webhook(pipeline, at_limit, signed(secret, at_limit))) == "unknown_task"  # verified, no effect
    over = _padded(64 * KIB + 1)
    answer = post_webhook(pipeline, over, signed(secret, over))
    assert (answer.status_code, answer.json()) == (413, {"error": "body too large"})  # the function's answer
    huge = _padded(10 * KIB * KIB + 1)
    answer = post_webhook(pipeline, huge, signed(secret, huge))
    assert (answer.status_code, answer.json()) == (413, {"message": "Request Entity Too Large"})  # the front's


@pytest.fixture
def uncached_webhook_secret(pipeline: LocalPipeline) -> Iterator[str]:
    """The webhook function reading its secret on every request; the secret restored afterwards."""
    old = pipeline.emulator.config.webhook_secret
    with function_environment(pipeline, WEBHOOK, POWERTOOLS_PARAMETERS_MAX_AGE="0"):
        try:
            yield old
        finally:
            _put_webhook_secret(pipeline, old)
            pipeline.emulator.config.webhook_secret = old


def test_webhook_secret_rotation_accepts_both_then_only_the_new(pipeline: LocalPipeline, media: Media,
                                                               uncached_webhook_secret: str) -> None:
    old, new = uncached_webhook_secret, random_secret()
    _put_webhook_secret(pipeline, f"{new} {old}")  # step 1: both
    assert _verified(pipeline, new) and _verified(pipeline, old) and not _verified(pipeline, random_secret())

    pipeline.emulator.config.webhook_secret = new  # step 2: the vendor console now signs with the new one
    pipeline.emulator.config.polling_interval_seconds = 120  # only a webhook can end this job quickly
    view = wait_for_job(pipeline, pipeline.submit("g-rotated", media.clip, media.face))
    assert view.execution_status == "SUCCEEDED" and pipeline.ended_by("g-rotated") == "webhook"

    _put_webhook_secret(pipeline, new)  # step 3: the old one removed
    assert _verified(pipeline, new) and not _verified(pipeline, old)


def test_no_secret_in_environment_logs_or_results_after_runs_with_failures(pipeline: LocalPipeline,
                                                                           media: Media) -> None:
    emulator = pipeline.emulator
    # Failures that put secrets close to a log line: a rejected API key, a vendor error, forged webhooks, bad input.
    emulator.set_faults(reject_api_key=True)
    wait_for_job(pipeline, pipeline.submit("g-sec-bad-key", media.clip, media.face))
    emulator.set_faults(reject_api_key=False, task_error_code="error_inference")
    wait_for_job(pipeline, pipeline.submit("g-sec-vendor-error", media.clip, media.face))
    forged = webhook_body("some-task")
    for secret in (random_secret(), emulator.config.webhook_secret):
        post_webhook(pipeline, forged + b" ", signed(secret, forged))
    pipeline.client("s3").put_object(Bucket=pipeline.bucket, Key="jobs/g-sec-bad.json", Body=b"{")
    wait_for_job(pipeline, "g-sec-bad")
    assert pipeline.stack.event_sources.wait_idle(timeout=30)

    secrets = _secret_forms(emulator.config.api_key, emulator.config.webhook_secret)
    lines = pipeline.stack.runtime.log_lines()
    assert any("InvalidApiKey" in line for line in lines)  # the failure is in the logs...
    assert [line for line in lines if any(s in line for s in secrets)] == []  # ...the secrets are not
    environments = _function_environments(pipeline)
    assert len(environments) >= 7 and not any(s in json.dumps(environments) for s in secrets)
    results = _result_files(pipeline)
    assert results and not any(s in body for body in results.values() for s in secrets)


# --- helpers -------------------------------------------------------------------------------------------------------
def _padded(size: int) -> bytes:
    """A webhook body of exactly `size` bytes, for a task nobody created."""
    base = webhook_body("unknown-task")
    padding = size - len(base) - len(',"padding":""')
    assert padding >= 0
    return base[:-1] + b',"padding":"' + b"x" * padding + b'"}'


def _verified(pipeline: LocalPipeline, secret: str) -> bool:
    body = webhook_body("unknown-task")
    got = outcome(post_webhook(pipeline, body, signed(secret, body)))
    assert got in ("unknown_task", "401"), got
    return got == "unknown_task"


def _put_webhook_secret(pipeline: LocalPipeline, value: str) -> None:
    pipeline.client("secretsmanager").put_secret_value(SecretId=pipeline.stack.outputs["WebhookSecretArn"],
                                                       SecretString=value)


def _secret_forms(api_key: str, webhook_secret: str) -> list[str]:
    """Each secret as it could leak: whole, and the webhook key without its whsec_ prefix."""
    return [api_key, webhook_secret, webhook_secret.removeprefix("whsec_")]


def _function_environments(pipeline: LocalPipeline) -> dict[str, dict[str, str]]:
    client = pipeline.client("lambda")
    names = [name for lid, name in pipeline.stack.deployed.resources.items()
             if pipeline.stack.deployed.resource_types[lid] == "AWS::Lambda::Function"]
    return {name: client.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
            for name in names}


def _result_files(pipeline: LocalPipeline) -> dict[str, str]:
    s3 = pipeline.client("s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=pipeline.bucket, Prefix="results/")
            for o in page.get("Contents", []) if o["Key"].endswith(".json")]
    return {key: s3.get_object(Bucket=pipeline.bucket, Key=key)["Body"].read().decode() for key in keys}
