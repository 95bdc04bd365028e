"""The webhook short-circuit: a task token and a webhook meet on the TASK item; whoever arrives second signals.

Both writes return the whole item atomically, so at least one side sees both halves. Signalling twice is
harmless: the second SendTaskSuccess finds the token already used and is treated as done.
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
# The token is spent or gone: the race already ended, which is exactly what we wanted.
ALREADY_DONE = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


@dataclass
class Callbacks:
    store: JobStore
    sfn: SFNClient

    def register_token(self, task_id: str, token: str) -> bool:
        """Called by the waitForTaskToken task. True when a webhook had already arrived (signalled now)."""
        state = self.store.store_token(task_id, token)
        if state.webhook_status in FINAL_STATUSES:
            self._signal(token, task_id, state.webhook_status, "webhook arrived before the token")
            return True
        return False

    def on_webhook(self, task_id: str, task_status: str) -> str:
        """Outcome for logs and the HTTP answer: signalled | waiting_for_token | unknown_task | not_final."""
        if task_status not in FINAL_STATUSES:
            return "not_final"
        state = self.store.record_webhook(task_id, task_status)
        if state is None:
            return "unknown_task"
        logger.append_keys(job_id=state.job_id)  # the TASK item names its job: no extra read for the logs
        if state.token is None:
            return "waiting_for_token"
        return self._signal(state.token, task_id, task_status, "webhook")

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
