"""The poller's first state: park the task token where the webhook will find it, keyed by vendor task id."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import wiring
from faceswap.states import StoreTokenInput, StoreTokenOutput

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=StoreTokenInput)
def lambda_handler(event: StoreTokenInput, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(job_id=event.job_id, task_id=event.task_id)
    early = wiring.callbacks().register_token(event.task_id, event.token)
    logger.info("waiting for webhook" if not early else "webhook had already arrived")
    return StoreTokenOutput(registered=True, signalled=early).model_dump()
