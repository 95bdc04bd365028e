"""Back to the start queue: a job that must wait is sent again with a delay (SQS DelaySeconds, at most 15 minutes;
a longer wait is several), and the message that brought it is deleted. So the queue's maxReceiveCount counts only
real failures (crashes, errors), never waiting, and a job never has two live messages (faceswap.claims)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faceswap.events import QueuedStart

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS's limit on DelaySeconds


class StartQueue:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, message: QueuedStart, delay_seconds: float) -> None:
        delay = min(MAX_DELAY_SECONDS, max(0, round(delay_seconds)))
        self._sqs.send_message(QueueUrl=self._url, MessageBody=message.model_dump_json(), DelaySeconds=delay)
