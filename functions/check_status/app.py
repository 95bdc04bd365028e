"""One poll of the vendor task, between two Wait states of the poller: is it final, how long to wait next, and
whether this poller should hand over to a fresh one before the Express limit of 5 minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import aws
from faceswap.errors import VendorTaskExpired, vendor_task_error
from faceswap.polling import hand_over_budget, next_poll, seconds_since
from faceswap.states import CheckStatusInput, StateError
from faceswap.youcam.errors import InvalidTaskId, YouCamError

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=CheckStatusInput)
def lambda_handler(event: CheckStatusInput, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event.job_id, task_id=event.task_id)
    count = event.poll.count + 1
    try:
        status = aws.vendor_client().get_task(event.task_id)
    except InvalidTaskId as exc:
        raise VendorTaskExpired(f"The vendor no longer knows task {event.task_id}: {exc.message}") from exc
    except YouCamError as exc:
        if not exc.retryable:
            raise
        # 429/5xx: the task may well be running; the next poll is the retry (bounded by max_polls), not sooner
        # than a Retry-After asks.
        logger.warning("vendor unavailable, polling on", extra={"error": str(exc), "poll": count})
        interval = max(event.poll.interval_seconds, getattr(exc, "retry_after_seconds", None) or 0)
        return _answer(event, final=False, status="unavailable", count=count, interval=interval or None)
    logger.info("polled", extra={"status": status.status, "poll": count})
    # The poller hands a failed task's error to the job (SendTaskFailure): Record failure turns it into error.json.
    vendor_error = (StateError(**vendor_task_error(status.error_code, status.error_message))
                    if status.is_final and not status.succeeded else None)
    return _answer(event, final=status.is_final, status=status.status, count=count,
                   interval=status.polling_interval_seconds or event.poll.interval_seconds, vendor_error=vendor_error)


def _answer(event: CheckStatusInput, final: bool, status: str, count: int, interval: float | None,
            vendor_error: StateError | None = None) -> dict[str, Any]:
    poll = next_poll(final=final, status=status, count=count, interval=interval, vendor_error=vendor_error,
                     elapsed_seconds=seconds_since(event.poller_started, datetime.now(UTC)),
                     budget_seconds=hand_over_budget())
    return poll.model_dump(exclude_none=True)  # no vendor_error key unless the task failed
