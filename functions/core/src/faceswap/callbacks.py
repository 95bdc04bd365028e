"""The webhook short-circuit: a task token and a webhook meet on the TASK item; whoever arrives second signals.

The rendezvous: each side makes one UpdateItem on the same item, and DynamoDB applies the two in some order.
The token side (`store_token`) gets the item *after* its write (ALL_NEW): if the webhook wrote first, its status
is there. The webhook side (`record_webhook`) gets the item *before* its write (ALL_OLD): if the token was stored
first, it is there. So whichever writes second sees the other half and sends SendTaskSuccess; both may, which is
harmless: the token is single-use, and a second SendTaskSuccess is answered TaskTimedOut/InvalidToken, treated
as already done. (This needs each write to be atomic, as DynamoDB makes it; locally, local.aws.dynamodb_atomic
gives moto the same.)

That same write makes a delivery idempotent without a record of its own: it adds the delivery's webhook-id to
the item's set of ids, conditionally on the item existing (an unknown task creates nothing), and ALL_OLD says
whether the id was there before. A repeat changes nothing, yet still re-signals when a token is stored: if the
first delivery's SendTaskSuccess failed (throttled: 5xx, so the vendor retries), the repeat ends the wait.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from faceswap.records import JobStore

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger(child=True)
FINAL_STATUSES = ("success", "error")
# Only a success ends the wait from here: a failure is reported by the poller, which reads the engine code from the
# API (the webhook's body carries none, and is not trusted with it); a failed job loses nothing by one more poll.
ENDS_THE_WAIT = "success"
# The token is spent or gone: the race already ended, which is exactly what we wanted.
ALREADY_DONE = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


@dataclass
class Callbacks:
    store: JobStore
    sfn: SFNClient

    def register_token(self, task_id: str, token: str) -> bool:
        """Called by the waitForTaskToken task. True when a webhook had already arrived (signalled now)."""
        state = self.store.store_token(task_id, token)
        if state.webhook_status == ENDS_THE_WAIT:
            self._signal(token, task_id, state.webhook_status, "webhook arrived before the token")
            return True
        return False

    def on_webhook(self, task_id: str, task_status: str, webhook_id: str) -> str:
        """Outcome for logs and the HTTP answer: signalled | waiting_for_token (the delivery changed state), or
        duplicate | already_done | unknown_task | not_final | left_to_poller (a failure: it ended nothing)."""
        if task_status not in FINAL_STATUSES:
            return "not_final"
        before = self.store.record_webhook(task_id, task_status, webhook_id)
        if before is None:
            return "unknown_task"
        logger.append_keys(job_id=before.job_id)  # the TASK item names its job: no extra read for the logs
        repeat = webhook_id in before.webhook_ids
        if task_status != ENDS_THE_WAIT:
            return "duplicate" if repeat else "left_to_poller"
        if before.token is None:
            return "duplicate" if repeat else "waiting_for_token"
        outcome = self._signal(before.token, task_id, task_status, "webhook")
        # A repeat that still signals is the retry of a delivery whose SendTaskSuccess failed: it ended the wait.
        return "duplicate" if repeat and outcome == "already_done" else outcome

    def _signal(self, token: str, task_id: str, task_status: str, via: str) -> str:
        output = json.dumps({"task_id": task_id, "task_status": task_status, "via": via})
        try:
            self.sfn.send_task_success(taskToken=token, output=output)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ALREADY_DONE:
                raise
            logger.info("callback already used", extra={"code": code})
            return "already_done"
        return "signalled"
