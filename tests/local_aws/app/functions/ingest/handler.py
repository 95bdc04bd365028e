"""S3 (in/ prefix) -> records the upload; `{"wait_seconds": n}` uploads also start the race execution."""

from __future__ import annotations

import json
import os
import urllib.parse
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    secrets = boto3.client("secretsmanager")
    secret = json.loads(secrets.get_secret_value(SecretId=os.environ["SECRET_ARN"])["SecretString"])
    started = []
    for record in event["Records"]:
        bucket, key = record["s3"]["bucket"]["name"], urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        if "fail" in key:
            raise RuntimeError(f"ingest refused {key}")
        body = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() or b"{}")
        job = key.rsplit("/", 1)[-1].split(".")[0]
        table.put_item(Item={"pk": f"ingest#{key}", "greeting": os.environ["GREETING"], "user": secret["user"],
                             "function": context.function_name})
        if "wait_seconds" in body:
            boto3.client("stepfunctions").start_execution(
                stateMachineArn=os.environ["STATE_MACHINE_ARN"], name=job, input=json.dumps({"job": job, **body}))
            started.append(job)
    print(f"ingested {len(event['Records'])} record(s), started {started}")
    return {"started": started}
