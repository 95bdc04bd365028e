"""The waitForTaskToken task: park the token where the webhook will find it, keyed by vendor task id."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["job_id"], task_id=event["task_id"])
    early = wiring.callbacks().register_token(event["task_id"], event["token"])
    logger.info("waiting for webhook" if not early else "webhook had already arrived")
    return {"registered": True, "signalled": early}
