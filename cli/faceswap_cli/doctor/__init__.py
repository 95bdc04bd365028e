"""`faceswap doctor`: is a deployed stack ready for its first job? One line per check, the fix under each that
did not pass; exit 1 if any failed (warnings do not fail).

    checks = run_doctor(stack)              # faceswap_cli.stack.discover_stack / load_local_stack
    print(format_report(f"Checking {stack.name}", checks))

The checks, in order: the stack's state, its state machines, both secrets set (values never shown), the key
accepted by the vendor with its spendable balance, the webhook URL answering a signed test delivery and refusing
a badly signed one, the alarm e-mail confirmed, the bucket's upload notifications in place.
"""

from __future__ import annotations

import boto3

from faceswap_cli.doctor.deployed import Deployed
from faceswap_cli.doctor.report import Check, Outcome, failed, format_report
from faceswap_cli.doctor.secrets import (
    API_KEY,
    WEBHOOK_SECRET,
    api_key_check,
    read_secret,
    vendor_key,
    webhook_secret_check,
)
from faceswap_cli.doctor.stack_checks import alarm_email, stack_state, state_machines
from faceswap_cli.doctor.uploads import bucket_notifications
from faceswap_cli.doctor.webhook import webhook_delivery
from faceswap_cli.stack import StackInfo

__all__ = ["Check", "Deployed", "Outcome", "check_deployed", "failed", "format_report", "run_doctor"]


def run_doctor(stack: StackInfo, session: boto3.Session | None = None) -> list[Check]:
    return check_deployed(Deployed.read(stack, session))


def check_deployed(d: Deployed) -> list[Check]:
    api_key, webhook_secret = read_secret(d, API_KEY), read_secret(d, WEBHOOK_SECRET)
    key_check, secret_check = api_key_check(api_key), webhook_secret_check(webhook_secret)
    return [
        stack_state(d),
        state_machines(d),
        key_check,
        vendor_key(d, api_key, key_check),
        secret_check,
        webhook_delivery(d, webhook_secret, secret_check),
        alarm_email(d),
        bucket_notifications(d),
    ]
