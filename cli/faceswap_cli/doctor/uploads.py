"""Uploads under jobs/ and videos/ must reach the start function: directly (S3 -> Lambda), or through the start
queue (S3 -> SQS -> Lambda), whose event source mapping must then be enabled. Either route passes; the line says
which."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faceswap_cli.doctor.deployed import Deployed
from faceswap_cli.doctor.report import Check, aws_errors_fail

NAME = "upload events"
ROUTES = (("QueueConfigurations", "QueueArn", "SQS queue"),
          ("LambdaFunctionConfigurations", "LambdaFunctionArn", "Lambda"),
          ("TopicConfigurations", "TopicArn", "SNS topic"))
REPLACED = ("Deploy the stack again (`cdk deploy`). A bucket has ONE notification configuration: whatever replaced "
            "ours (a console edit, put-bucket-notification-configuration) must add to it instead.")


@dataclass(frozen=True)
class Route:
    label: str  # SQS queue | Lambda | SNS topic
    arn: str

    def __str__(self) -> str:
        return f"{self.label} {_name(self.arn)}"


@aws_errors_fail(NAME, "call s3:GetBucketNotification on the stack's bucket and lambda:ListEventSourceMappings")
def bucket_notifications(d: Deployed) -> Check:
    config = d.client("s3").get_bucket_notification_configuration(Bucket=d.stack.bucket)
    routes = {prefix: _route(config, prefix) for prefix in (d.stack.jobs_prefix, d.stack.videos_prefix)}
    missing = [prefix for prefix, route in routes.items() if route is None]
    if missing:
        return Check.fail(NAME, f"no ObjectCreated notification for {' and '.join(missing)} in {d.stack.bucket}: "
                          "uploads there start nothing", REPLACED)
    queues = {route.arn for route in routes.values() if route is not None and route.label == "SQS queue"}
    readers = {arn: _enabled_readers(d, arn) for arn in queues}
    unread = [arn for arn, functions in readers.items() if not functions]
    if unread:
        return Check.fail(NAME, f"no enabled event source mapping reads the queue {_name(unread[0])}: uploads wait "
                          "in it", "Enable the start function's mapping (`aws lambda update-event-source-mapping "
                          "--uuid ... --enabled`), or deploy the stack again.")
    return Check.ok(NAME, "; ".join(f"{prefix}* -> {route}{_then(readers, route)}" for prefix, route in routes.items()))


def _route(config: dict[str, Any], prefix: str) -> Route | None:
    for kind, arn_key, label in ROUTES:
        for entry in config.get(kind, []):
            created = any(event.startswith("s3:ObjectCreated:") for event in entry.get("Events", []))
            if created and _prefix_of(entry) == prefix:
                return Route(label, str(entry[arn_key]))
    return None


def _prefix_of(entry: dict[str, Any]) -> str | None:
    rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    return next((str(rule["Value"]) for rule in rules if str(rule.get("Name", "")).lower() == "prefix"), None)


def _enabled_readers(d: Deployed, queue_arn: str) -> list[str]:
    pages = d.client("lambda").get_paginator("list_event_source_mappings").paginate(EventSourceArn=queue_arn)
    return [_name(m["FunctionArn"]) for page in pages for m in page["EventSourceMappings"]
            if m.get("State") in ("Enabled", "Enabling", "Updating")]


def _then(readers: dict[str, list[str]], route: Route | None) -> str:
    functions = readers.get(route.arn) if route else None
    return f" -> Lambda {', '.join(functions)}" if functions else ""


def _name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
