"""Checks of the stack's own resources: its CloudFormation state, the state machines, and who is told when an
alarm fires."""

from __future__ import annotations

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
