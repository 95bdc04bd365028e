"""The webhook URL, as the vendor will call it: a delivery signed with each configured secret answers 200
(for a task id no job has: "unknown_task", which changes nothing), and one signed with another secret answers 401.

The refused delivery is one rejected call for the Webhook4xxRate alarm (more than 10 % of webhook calls rejected
in 5 minutes): on a quiet endpoint, doctor's run alone can make it fire once.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid

import requests

from faceswap.youcam.webhooks import sign_webhook
from faceswap_cli.doctor.deployed import Deployed
from faceswap_cli.doctor.report import Check, Outcome
from faceswap_cli.doctor.secrets import Secret

NAME = "webhook"
TIMEOUT_SECONDS = 15.0  # a cold start of the webhook function included
TEST_TASK_PREFIX = "faceswap-doctor-"
# The function keeps a secret up to 5 minutes (faceswap.aws.SECRET_CACHE_SECONDS).
RECENTLY_CHANGED = "If you put the secret in the last 5 minutes, the function may still hold the old one: wait."


def webhook_delivery(d: Deployed, secret: Secret, secret_check: Check) -> Check:
    url = d.webhook_url
    if not url:
        return Check.fail(NAME, "the stack has no WebhookUrl output", "Deploy the stack again (`cdk deploy`).")
    if secret_check.outcome not in (Outcome.OK, Outcome.WARN) or not secret.value:
        return Check.skip(NAME, f"not called: the {secret.name} is not usable yet")
    try:
        for position, value in enumerate(secret.value.split(), start=1):
            problem = _refused_signed(url, value, position)
            if problem:
                return problem
        forged = _post(url, _random_secret())
    except requests.RequestException as exc:
        return Check.fail(NAME, f"{url} did not answer: {type(exc).__name__}",
                          "Check the WebhookUrl output and that the API is deployed (`cdk deploy`).")
    if forged.status_code != 401:
        return Check.fail(NAME, f"a delivery signed with a wrong secret answered {forged.status_code}, not 401",
                          "The webhook must verify signatures: deploy the stack again and check the function.")
    return Check.ok(NAME, f"{url}: signed test delivery 200 (unknown task, nothing changed); badly signed 401")


def _refused_signed(url: str, secret: str, position: int) -> Check | None:
    answer = _post(url, secret)
    outcome = _outcome(answer)
    if answer.status_code == 200 and outcome == "unknown_task":
        return None
    which = f"signed with secret {position}"
    if answer.status_code == 401:
        return Check.fail(NAME, f"a delivery {which} was refused (401)",
                          f"The function does not read the secret doctor read. {RECENTLY_CHANGED}")
    return Check.fail(NAME, f"a delivery {which} answered {answer.status_code} {outcome or answer.text[:80]!r}, "
                      "expected 200 unknown_task", "Read the webhook function's logs (CloudWatch) for the error.")


def _post(url: str, secret: str) -> requests.Response:
    task_id = f"{TEST_TASK_PREFIX}{uuid.uuid4().hex}"
    body = json.dumps({"created_at": int(time.time() * 1000),
                       "data": {"task_id": task_id, "task_status": "success"}})
    headers = {**sign_webhook(secret, f"msg_{task_id}", int(time.time()), body),
               "content-type": "application/json"}
    return requests.post(url, data=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS)


def _outcome(answer: requests.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return str(body.get("outcome")) if isinstance(body, dict) else None


def _random_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()
