"""The two secrets: set (not what the stack created), well formed, and the key accepted by the vendor.

A secret's value is never printed. "Not set yet" is told from its versions, not its value: the stack creates each
secret with a random placeholder (one version), and every value put since adds a version. (A fixed, recognisable
placeholder would need a change of the secrets' template properties, and CloudFormation answers that by
overwriting the value a user had put: every deployed pipeline would lose its key on the next deploy.)
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from standardwebhooks.webhooks import Webhook

from faceswap.config import VendorSettings
from faceswap.youcam.client import YouCamClient
from faceswap.youcam.errors import InvalidApiKey, VendorUnreachable, YouCamError
from faceswap_cli.doctor.deployed import Deployed
from faceswap_cli.doctor.report import Check, Outcome

API_KEY, WEBHOOK_SECRET = "ApiKeySecretArn", "WebhookSecretArn"
NAMES = {API_KEY: "api key secret", WEBHOOK_SECRET: "webhook secret"}
WHAT = {API_KEY: "YOUR_YOUCAM_API_KEY", WEBHOOK_SECRET: "whsec_..."}


@dataclass(frozen=True)
class Secret:
    output: str  # ApiKeySecretArn | WebhookSecretArn
    arn: str | None
    value: str | None = None  # None: not read (no output, or AWS refused: see `problem`)
    set_since_deploy: bool = False
    problem: str = ""

    @property
    def name(self) -> str:
        return NAMES[self.output]

    @property
    def put_command(self) -> str:
        return f"aws secretsmanager put-secret-value --secret-id {self.arn} --secret-string '{WHAT[self.output]}'"


def read_secret(d: Deployed, output: str) -> Secret:
    arn = d.outputs.get(output)
    if not arn:
        return Secret(output, None, problem=f"the stack has no {output} output")
    sm = d.client("secretsmanager")
    try:
        value = str(sm.get_secret_value(SecretId=arn).get("SecretString") or "")
        versions = sm.list_secret_version_ids(SecretId=arn, IncludeDeprecated=True, MaxResults=2)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return Secret(output, arn, problem=f"AWS answered {error.get('Code')}: {error.get('Message', '')}")
    except BotoCoreError as exc:
        return Secret(output, arn, problem=f"AWS could not be asked: {exc}")
    put_since = len(versions.get("Versions", [])) > 1 or bool(versions.get("NextToken"))
    return Secret(output, arn, value, put_since)


def api_key_check(secret: Secret) -> Check:
    unusable = _unusable(secret)
    if unusable:
        return unusable
    return Check.ok(secret.name, "set (the value is not shown)")


def webhook_secret_check(secret: Secret) -> Check:
    unusable = _unusable(secret)
    if unusable:
        return unusable
    values = (secret.value or "").split()
    for position, value in enumerate(values, start=1):
        try:
            Webhook(value)
        except Exception:  # not base64: the message would quote the secret
            return Check.fail(secret.name, f"secret {position} of {len(values)} is not a whsec_ secret",
                              f"Copy the signing secret from the YouCam console: {secret.put_command}")
    bare = sum(not v.startswith("whsec_") for v in values)
    detail = "1 signing secret set" if len(values) == 1 else f"{len(values)} signing secrets set (a rotation: " \
        "each is accepted)"
    if bare:
        return Check.warn(secret.name, f"{detail}; {bare} without the whsec_ prefix the vendor's secrets have",
                          f"Check it is the console's signing secret: {secret.put_command}")
    return Check.ok(secret.name, detail)


def _unusable(secret: Secret) -> Check | None:
    if secret.value is None:
        return Check.fail(secret.name, f"cannot be read: {secret.problem}",
                          "Run doctor with credentials allowed secretsmanager:GetSecretValue and "
                          "ListSecretVersionIds on the stack's secrets (or `cdk deploy` the current version).")
    if not secret.set_since_deploy:
        return Check.fail(secret.name, "still the placeholder the stack created", secret.put_command)
    if not secret.value.strip():
        return Check.fail(secret.name, "empty", secret.put_command)
    return None


def vendor_key(d: Deployed, secret: Secret, secret_check: Check) -> Check:
    """GET the credit balance with the key: a 401 means the key is wrong; the balance says whether a job can run."""
    name, origin = "vendor key", d.vendor_base_url
    if secret_check.outcome is not Outcome.OK or not secret.value:
        return Check.skip(name, f"not asked: the {secret.name} is not usable yet")
    try:
        with YouCamClient(secret.value, VendorSettings(base_url=origin, max_retries=1)) as client:
            balance = client.credit_balance()
    except InvalidApiKey:
        return Check.fail(name, f"{origin} refused the key (HTTP 401)",
                          f"Put the API key from the YouCam console into the API-key secret: {secret.put_command}")
    except VendorUnreachable as exc:
        return Check.fail(name, f"{origin} did not answer ({exc})",
                          "Check the VendorBaseUrl parameter and this machine's network.")
    except YouCamError as exc:
        return Check.fail(name, f"{origin} answered {exc}", "See the vendor's status page; try again later.")
    if balance < 1:
        return Check.fail(name, f"key accepted; {balance:g} units spendable: a job needs 1 per 5 s of video",
                          "Top up the YouCam account's API units.")
    return Check.ok(name, f"key accepted by {origin}; {balance:g} units spendable (1 per 5 s of video)")
