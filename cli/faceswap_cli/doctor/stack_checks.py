"""Checks of the stack's own resources: its CloudFormation state, the state machines, the bucket's upload
notifications and who is told when an alarm fires."""

from __future__ import annotations

from typing import Any

from faceswap_cli.doctor.deployed import Deployed
from faceswap_cli.doctor.report import Check, aws_errors_fail

READY_STATES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
E_MAIL = ("email", "email-json")
PENDING = "PendingConfirmation"  # what SNS lists instead of the ARN of a subscription not confirmed yet


def stack_state(d: Deployed) -> Check:
    name, status = "stack", d.status
    where = f"{d.stack.name} in {d.stack.region}"
    if status in READY_STATES:
        return Check.ok(name, f"{where}: {status}")
    if status == "UPDATE_ROLLBACK_COMPLETE":
        return Check.warn(name, f"{where}: {status} (the last update rolled back: the previous version runs)",
                          "Read why in the stack's events, fix it and `cdk deploy` again.")
    if status.endswith("_IN_PROGRESS"):
        return Check.warn(name, f"{where}: {status}", "Wait for the deployment to end, then run doctor again.")
    return Check.fail(name, f"{where}: {status}", "Read why in the stack's events; delete a ROLLBACK_COMPLETE "
                      "stack, then `cdk deploy` again.")


@aws_errors_fail("state machines", "call states:DescribeStateMachine on the stack's state machines")
def state_machines(d: Deployed) -> Check:
    sfn = d.client("stepfunctions")
    arns = {"job": d.stack.state_machine_arn, "poller": d.outputs.get("PollerStateMachineArn")}
    states = {role: sfn.describe_state_machine(stateMachineArn=arn).get("status", "ACTIVE")
              for role, arn in arns.items() if arn}
    detail = ", ".join(f"{role} {status}" for role, status in states.items())
    if any(status != "ACTIVE" for status in states.values()):
        return Check.fail("state machines", detail, "Deploy the stack again (`cdk deploy`).")
    return Check.ok("state machines", detail)


@aws_errors_fail("upload events", "call s3:GetBucketNotification on the stack's bucket")
def bucket_notifications(d: Deployed) -> Check:
    """Uploads under jobs/ and videos/ must reach the start function: directly (S3 -> Lambda) or through the
    start queue (S3 -> SQS -> Lambda). Either is fine; the line says which."""
    config = d.client("s3").get_bucket_notification_configuration(Bucket=d.stack.bucket)
    routes = {prefix: _destination(config, prefix) for prefix in (d.stack.jobs_prefix, d.stack.videos_prefix)}
    missing = [prefix for prefix, route in routes.items() if route is None]
    if missing:
        return Check.fail("upload events", f"no ObjectCreated notification for {' and '.join(missing)} in "
                          f"{d.stack.bucket}: uploads there start nothing",
                          "Deploy the stack again (`cdk deploy`). A bucket has ONE notification configuration: "
                          "whatever replaced ours (a console edit, put-bucket-notification-configuration) must "
                          "add to it instead.")
    return Check.ok("upload events", "; ".join(f"{prefix}* -> {route}" for prefix, route in routes.items()))


def _destination(config: dict[str, Any], prefix: str) -> str | None:
    for kind, arn_key, label in (("QueueConfigurations", "QueueArn", "SQS queue"),
                                 ("LambdaFunctionConfigurations", "LambdaFunctionArn", "Lambda"),
                                 ("TopicConfigurations", "TopicArn", "SNS topic")):
        for entry in config.get(kind, []):
            created = any(event.startswith("s3:ObjectCreated:") for event in entry.get("Events", []))
            if created and _prefix_of(entry) == prefix:
                return f"{label} {str(entry[arn_key]).rsplit(':', 1)[-1]}"
    return None


def _prefix_of(entry: dict[str, Any]) -> str | None:
    rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    return next((str(rule["Value"]) for rule in rules if str(rule.get("Name", "")).lower() == "prefix"), None)


@aws_errors_fail("alarm e-mail", "call sns:ListSubscriptionsByTopic on the stack's alarm topic")
def alarm_email(d: Deployed) -> Check:
    name, topic = "alarm e-mail", d.outputs.get("AlarmTopicArn")
    if not topic:
        return Check.warn(name, "the stack has no AlarmTopicArn output (deployed before doctor existed)",
                          "`cdk deploy` the current version, then run doctor again.")
    subscriptions = [s for page in d.client("sns").get_paginator("list_subscriptions_by_topic").paginate(
        TopicArn=topic) for s in page["Subscriptions"]]
    e_mails = [s for s in subscriptions if s.get("Protocol") in E_MAIL]
    pending = [str(s.get("Endpoint")) for s in e_mails if s.get("SubscriptionArn") == PENDING]
    if pending:
        return Check.fail(name, f"{', '.join(pending)} not confirmed yet: alarms reach no one there",
                          "Open the e-mail from AWS Notifications and click 'Confirm subscription' (it expires "
                          "after 3 days: then `cdk deploy` again, or subscribe again with `aws sns subscribe`).")
    if e_mails:
        return Check.ok(name, f"{', '.join(str(s.get('Endpoint')) for s in e_mails)} confirmed")
    if subscriptions:
        return Check.ok(name, f"{len(subscriptions)} subscription(s) to the alarm topic, none by e-mail")
    return Check.warn(name, "no one is subscribed to the alarm topic: alarms fire unseen",
                      "Deploy with `-c faceswap:alarm_email=you@example.com` and confirm the e-mail, or "
                      f"`aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint YOU`.")
