"""`faceswap doctor` on the local stack: every check passes on a ready stack, and each one fails (or warns) with
its fix when what it checks is broken. Each test breaks one thing and restores it (the stack is shared)."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from faceswap_cli import load_local_stack
from faceswap_cli.doctor import Check, Deployed, Outcome, check_deployed
from faceswap_cli.stack import stack_outputs
from tests.cli.conftest import LocalCli

NAMES = ("stack", "state machines", "api key secret", "vendor key", "webhook secret", "webhook", "alarm e-mail",
         "upload events")


def _deployed(cli: LocalCli, **changes: Any) -> Deployed:
    deployed = Deployed.read(load_local_stack(cli.state_file))
    outputs = {**deployed.outputs, **changes.pop("outputs", {})}
    return dataclasses.replace(deployed, outputs=outputs, **changes)


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if f"  {name}  " in line)


def test_a_ready_local_stack_passes_every_check(cli: LocalCli) -> None:
    run = cli("doctor")

    assert run.code == 0, run.out + run.err
    lines = run.out.splitlines()
    assert lines[0] == "Checking the local stack before its first job:"
    outcomes = [line.split()[0] for line in lines[1:-1] if not line.lstrip().startswith("fix:")]
    assert outcomes == ["ok", "ok", "ok", "ok", "ok", "ok", "warn", "ok"]
    assert "CREATE_COMPLETE" in _line(run.out, "stack")
    assert "job ACTIVE, poller ACTIVE" in _line(run.out, "state machines")
    assert re.search(r"key accepted by http://127\.0\.0\.1:\d+; \d+ units spendable", _line(run.out, "vendor key"))
    assert "signed test delivery 200" in _line(run.out, "webhook") and "badly signed 401" in run.out
    assert "no one is subscribed" in _line(run.out, "alarm e-mail") and "faceswap:alarm_email" in run.out
    events = _line(run.out, "upload events")
    assert "jobs/* -> " in events and "videos/* -> " in events
    assert lines[-1] == "0 checks failed, 1 warning: ready for a first job."
    config = cli.pipeline.emulator.config
    assert config.api_key not in run.out and all(s not in run.out for s in config.webhook_secrets())


@contextmanager
def _secret(cli: LocalCli, output: str, value: str) -> Iterator[None]:
    sm, arn = cli.pipeline.client("secretsmanager"), cli.pipeline.stack.outputs[output]
    before = sm.get_secret_value(SecretId=arn)["SecretString"]
    sm.put_secret_value(SecretId=arn, SecretString=value)
    try:
        yield
    finally:
        sm.put_secret_value(SecretId=arn, SecretString=before)


def test_a_key_the_vendor_refuses_fails_with_the_secret_to_fix(cli: LocalCli) -> None:
    with _secret(cli, "ApiKeySecretArn", "not-the-key"):
        run = cli("doctor")

    assert run.code == 1
    line = _line(run.out, "vendor key")
    assert line.split()[0] == "FAIL" and "refused the key (HTTP 401)" in line
    fix = run.out.splitlines()[run.out.splitlines().index(line) + 1]
    arn = cli.pipeline.stack.outputs["ApiKeySecretArn"]
    assert f"fix: Put the API key from the YouCam console into the API-key secret: aws secretsmanager " \
           f"put-secret-value --secret-id {arn}" in fix
    assert "not-the-key" not in run.out
    assert run.out.splitlines()[-1].startswith("1 check failed, 1 warning: not ready")


def test_no_spendable_units_fail_and_an_unreachable_vendor_fails(cli: LocalCli) -> None:
    emulator = cli.pipeline.emulator
    emulator.set_faults(credit_units=0)
    try:
        broke = _by_name(check_deployed(_deployed(cli)))["vendor key"]
    finally:
        emulator.reset()
    assert broke.outcome is Outcome.FAIL and "0 units spendable" in broke.detail and "Top up" in broke.fix

    closed = _by_name(check_deployed(_deployed(cli, outputs={"VendorApiUrl": "http://127.0.0.1:9"})))
    assert closed["vendor key"].outcome is Outcome.FAIL and "did not answer" in closed["vendor key"].detail


def test_secrets_never_put_since_deploy_are_placeholders(cli: LocalCli) -> None:
    """The stack creates each secret with one (placeholder) version; a value put since adds one."""
    sm = cli.pipeline.client("secretsmanager")
    fresh = {output: sm.create_secret(Name=f"doctor-{output}", SecretString="Xq3Zr8Lk2")["ARN"]
             for output in ("ApiKeySecretArn", "WebhookSecretArn")}
    try:
        checks = _by_name(check_deployed(_deployed(cli, outputs=fresh)))
    finally:
        for arn in fresh.values():
            sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)

    for name, output in (("api key secret", "ApiKeySecretArn"), ("webhook secret", "WebhookSecretArn")):
        assert checks[name].outcome is Outcome.FAIL and checks[name].detail == "still the placeholder the stack created"
        assert checks[name].fix.startswith(f"aws secretsmanager put-secret-value --secret-id {fresh[output]} ")
    assert checks["vendor key"].outcome is Outcome.SKIP and checks["webhook"].outcome is Outcome.SKIP


def test_a_webhook_secret_that_is_not_one_fails(cli: LocalCli) -> None:
    good = cli.pipeline.emulator.config.webhook_secret
    with _secret(cli, "WebhookSecretArn", f"{good} -"):  # a rotation whose 2nd value is no base64 key
        run = cli("doctor")
    assert run.code == 1
    assert "secret 2 of 2 is not a whsec_ secret" in _line(run.out, "webhook secret")
    assert _line(run.out, "webhook").split()[0] == "skip"

    with _secret(cli, "WebhookSecretArn", good.removeprefix("whsec_")):
        bare = _by_name(check_deployed(_deployed(cli)))
    assert bare["webhook secret"].outcome is Outcome.WARN
    assert "without the whsec_ prefix" in bare["webhook secret"].detail
    assert bare["webhook"].outcome is Outcome.OK  # the function accepts the bare base64 key too


class _Answer(BaseHTTPRequestHandler):
    status, body = 200, b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _endpoint(status: int, body: dict[str, Any]) -> Iterator[str]:
    """A URL that answers every POST the same way: a webhook that refuses everything, or accepts everything."""
    handler = type("Handler", (_Answer,), {"status": status, "body": json.dumps(body).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    finally:
        server.shutdown()
        server.server_close()


def _webhook_check(cli: LocalCli, url: str) -> Check:
    deployed = _deployed(cli)
    deployed = dataclasses.replace(deployed, stack=dataclasses.replace(deployed.stack, webhook_url=url))
    return _by_name(check_deployed(deployed))["webhook"]


@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, {"error": "invalid signature"}, "a delivery signed with secret 1 was refused (401)"),
    (502, {"message": "Internal server error"}, "a delivery signed with secret 1 answered 502"),
    (200, {"accepted": False, "outcome": "unknown_task"}, "a delivery signed with a wrong secret answered 200"),
])
def test_a_webhook_that_refuses_good_or_accepts_bad_signatures_fails(cli: LocalCli, status: int,
                                                                    body: dict[str, Any], expected: str) -> None:
    with _endpoint(status, body) as url:
        check = _webhook_check(cli, url)
    assert check.outcome is Outcome.FAIL and check.detail.startswith(expected)


def test_a_webhook_url_that_does_not_answer_fails(cli: LocalCli) -> None:
    check = _webhook_check(cli, "http://127.0.0.1:9/webhook")
    assert check.outcome is Outcome.FAIL and "did not answer" in check.detail and "WebhookUrl" in check.fix


def test_alarm_e_mail_confirmed_passes_and_pending_fails(cli: LocalCli) -> None:
    sns, topic = cli.pipeline.client("sns"), cli.pipeline.stack.outputs["AlarmTopicArn"]
    arn = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    try:
        confirmed = _by_name(check_deployed(_deployed(cli)))["alarm e-mail"]
        with _pending(arn):
            pending = _by_name(check_deployed(_deployed(cli)))["alarm e-mail"]
    finally:
        sns.unsubscribe(SubscriptionArn=arn)

    assert confirmed == Check.ok("alarm e-mail", "ops@example.com confirmed")
    assert pending.outcome is Outcome.FAIL and pending.detail.startswith("ops@example.com not confirmed yet")
    assert "Confirm subscription" in pending.fix


@contextmanager
def _pending(arn: str) -> Iterator[None]:
    """moto confirms every subscription at once; AWS lists an unconfirmed one as PendingConfirmation, so the
    subscription is shown that way for a while (moto runs in this process)."""
    from moto.sns.models import sns_backends

    from local.aws.server import ACCOUNT_ID, REGION

    subscription = sns_backends[ACCOUNT_ID][REGION].subscriptions[arn]
    subscription.arn = "PendingConfirmation"
    try:
        yield
    finally:
        subscription.arn = arn


def test_upload_events_through_the_start_queue_need_its_mapping_enabled(cli: LocalCli) -> None:
    """The route the stack builds (S3 -> the start queue -> Lambda) passes only while the queue's mapping is on."""
    p = cli.pipeline
    functions = p.client("lambda")
    start_job = p.stack.function_name("PipelineIngestStartJob")
    [mapping] = [m for m in functions.list_event_source_mappings(FunctionName=start_job)["EventSourceMappings"]
                 if ":sqs:" in m["EventSourceArn"]]
    queue = mapping["EventSourceArn"].rsplit(":", 1)[1]
    read = _by_name(check_deployed(_deployed(cli)))["upload events"]
    functions.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    try:
        disabled = _by_name(check_deployed(_deployed(cli)))["upload events"]
    finally:
        functions.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)

    assert disabled.outcome is Outcome.FAIL
    assert disabled.detail == f"no enabled event source mapping reads the queue {queue}: uploads wait in it"
    route = f"SQS queue {queue} -> Lambda {start_job}"
    assert read == Check.ok("upload events", f"jobs/* -> {route}; videos/* -> {route}")


def test_upload_events_fail_when_the_notifications_are_gone(cli: LocalCli) -> None:
    with _notifications(cli, {}):
        gone = cli("doctor")
    assert gone.code == 1
    assert "no ObjectCreated notification for jobs/ and videos/" in _line(gone.out, "upload events")
    assert "ONE notification configuration" in gone.out
    assert _by_name(check_deployed(_deployed(cli)))["upload events"].outcome is Outcome.OK  # restored


@contextmanager
def _notifications(cli: LocalCli, configuration: dict[str, Any]) -> Iterator[None]:
    s3, bucket = cli.pipeline.client("s3"), cli.pipeline.bucket
    before = {k: v for k, v in s3.get_bucket_notification_configuration(Bucket=bucket).items()
              if k.endswith("Configurations")}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    try:
        yield
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=before)


def test_stack_states_and_missing_state_machines(cli: LocalCli) -> None:
    def stack_check(status: str) -> Check:
        return _by_name(check_deployed(_deployed(cli, status=status)))["stack"]

    assert stack_check("UPDATE_COMPLETE").outcome is Outcome.OK
    assert stack_check("UPDATE_ROLLBACK_COMPLETE").outcome is Outcome.WARN
    assert stack_check("UPDATE_IN_PROGRESS").outcome is Outcome.WARN
    failed = stack_check("ROLLBACK_COMPLETE")
    assert failed.outcome is Outcome.FAIL and "delete a ROLLBACK_COMPLETE stack" in failed.fix

    gone = cli.pipeline.poller_arn.rsplit(":", 1)[0] + ":gone"
    machines = _by_name(check_deployed(_deployed(cli, outputs={"PollerStateMachineArn": gone})))["state machines"]
    assert machines.outcome is Outcome.FAIL and "StateMachineDoesNotExist" in machines.detail
    assert "states:DescribeStateMachine" in machines.fix


def test_check_names_are_the_report_lines(cli: LocalCli) -> None:
    assert tuple(check.name for check in check_deployed(_deployed(cli))) == NAMES


def test_outputs_of_a_stack_of_your_own_are_found_by_their_prefix() -> None:
    mine = {"Outputs": [{"OutputKey": f"FaceSwap{key}", "OutputValue": key.lower()}
                        for key in ("BucketName", "StateMachineArn", "PollerStateMachineArn", "AlarmTopicArn")]
            + [{"OutputKey": "OtherThing", "OutputValue": "x"}]}
    assert stack_outputs(mine) == {"BucketName": "bucketname", "StateMachineArn": "statemachinearn",
                                   "PollerStateMachineArn": "pollerstatemachinearn", "AlarmTopicArn": "alarmtopicarn"}
