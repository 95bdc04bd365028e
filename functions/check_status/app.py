"""One poll of the vendor task, between two Wait states of the poller: is it final, how long to wait next, and
whether this poller should hand over to a fresh one before the Express limit of 5 minutes."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import aws
from faceswap.errors import VendorTaskExpired, vendor_task_error
from faceswap.layout import Env
from faceswap.workflow_input import wait_seconds
from faceswap.youcam.errors import InvalidTaskId, YouCamError

logger = Logger()
tracer = Tracer()
# Hand over when the next wait would end later than this after the poller started: the next round (a Wait of at
# most 4 minutes, a check with brief retries) still ends well inside the 5 minutes an Express execution may run.
HAND_OVER_AFTER_SECONDS = float(os.environ.get(Env.POLLER_HAND_OVER_SECONDS, "180"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event["job_id"], task_id=event["task_id"])
    poll = event.get("poll") or {}
    count = int(poll.get("count", 0)) + 1
    try:
        status = aws.vendor_client().get_task(event["task_id"])
    except InvalidTaskId as exc:
        raise VendorTaskExpired(f"The vendor no longer knows task {event['task_id']}: {exc.message}") from exc
    except YouCamError as exc:
        if not exc.retryable:
            raise
        # 429/5xx: the task may well be running; the next poll is the retry (bounded by max_polls), not sooner
        # than a Retry-After asks.
        logger.warning("vendor unavailable, polling on", extra={"error": str(exc), "poll": count})
        interval = max(float(poll.get("interval_seconds") or 0), getattr(exc, "retry_after_seconds", None) or 0)
        return _poll(final=False, status="unavailable", count=count, interval=interval or None,
                     started=event.get("poller_started"))
    logger.info("polled", extra={"status": status.status, "poll": count})
    answer = _poll(final=status.is_final, status=status.status, count=count,
                   interval=status.polling_interval_seconds or poll.get("interval_seconds"),
                   started=event.get("poller_started"))
    if status.is_final and not status.succeeded:
        # The poller hands this to the job as its error (SendTaskFailure): Record failure turns it into error.json.
        answer["vendor_error"] = vendor_task_error(status.error_code, status.error_message)
    return answer


def _poll(final: bool, status: str, count: int, interval: float | None, started: str | None) -> dict[str, Any]:
    wait = wait_seconds(interval)
    return {"final": final, "status": status, "count": count, "interval_seconds": wait,
            "hand_over": _seconds_since(started) + wait > HAND_OVER_AFTER_SECONDS}


def _seconds_since(timestamp: str | None) -> float:
    if not timestamp:
        return 0.0
    started = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return (datetime.now(UTC) - started).total_seconds()
