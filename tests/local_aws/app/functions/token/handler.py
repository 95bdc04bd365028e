"""waitForTaskToken: stores the task token for the webhook."""

from __future__ import annotations

import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> None:
    boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).put_item(
        Item={"pk": f"token#{event['job']}", "token": event["token"]})
