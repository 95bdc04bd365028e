"""POST /webhook: verify the Standard Webhooks signature on the raw body, record the delivery, end the wait.

Answers: 200 for any valid delivery (also late, duplicate or for an unknown task), 401 for a bad signature,
413 for an oversized body. Bad input never causes a 5xx (a failing AWS call does: the vendor then retries).

The body says what the delivery did: `accepted` is true only when it changed something (it ended the wait, or
was stored for a token still to come); `outcome` says why not otherwise (already_done, not_final, unknown_task,
left_to_poller: a failure, which the poller reports with the API's engine code; duplicate: this webhook-id was
recorded before, and the repeat changed nothing).

Idempotent by construction, with no idempotency record of its own: the delivery is one conditional write on the
TASK item (which also tells a repeated webhook-id) and one SendTaskSuccess on a single-use token; see
faceswap.callbacks.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceswap import aws, wiring
from faceswap.youcam.webhooks import WebhookRejected, verify_webhook

MAX_BODY_BYTES = 64 * 1024  # the vendor's events are a few hundred bytes
EFFECTIVE_OUTCOMES = ("signalled", "waiting_for_token")  # what "accepted" means: the delivery changed state

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()


@app.post("/webhook")
def receive_webhook() -> Response:
    body = _raw_body()
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, {"error": "body too large"}, "WebhooksTooLarge")
    try:
        event = verify_webhook(app.current_event.headers, body, aws.webhook_secrets())
    except WebhookRejected as exc:
        logger.warning("webhook rejected", extra={"reason": str(exc)})
        return _answer(401, {"error": "invalid signature"}, "WebhooksRejected")
    logger.append_keys(task_id=event.task_id, webhook_id=event.webhook_id)
    outcome = wiring.callbacks().on_webhook(event.task_id, event.task_status, event.webhook_id)
    accepted = outcome in EFFECTIVE_OUTCOMES
    logger.info("webhook verified", extra={"accepted": accepted, "outcome": outcome})
    return _answer(200, {"accepted": accepted, "outcome": outcome},
                   "WebhooksAccepted" if accepted else "WebhooksIgnored")


def _raw_body() -> bytes:
    event = app.current_event
    raw = event.body or ""
    return base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")


def _answer(status: int, body: dict[str, Any], metric: str) -> Response:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
