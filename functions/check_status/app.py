"""One poll of the vendor task, between two Wait states: is it final, and how long to wait next."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import aws
from faceswap.errors import VendorTaskExpired, VendorUnavailable
from faceswap.workflow_input import wait_seconds
from faceswap.youcam.errors import InvalidTaskId, YouCamError

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["job_id"], task_id=event["task_id"])
    poll = event.get("poll") or {}
    try:
        status = aws.vendor_client().get_task(event["task_id"])
    except InvalidTaskId as exc:
        raise VendorTaskExpired(f"The vendor no longer knows task {event['task_id']}: {exc.message}") from exc
    except YouCamError as exc:
        if exc.retryable:
            raise VendorUnavailable(str(exc)) from exc
        raise
    count = int(poll.get("count", 0)) + 1
    interval = status.polling_interval_seconds or poll.get("interval_seconds")
    logger.info("polled", extra={"status": status.status, "poll": count})
    return {"final": status.is_final, "status": status.status, "count": count,
            "interval_seconds": wait_seconds(interval)}
