"""SQS worker: each message body says what to do with it (JSON):
{"id": ..., "sleep": s, "fail_receives": n, "crash_receives": n, "bad_response": true}. A message is reported failed
(batchItemFailures) while its ApproximateReceiveCount <= fail_receives; the whole invocation raises while any
message's count <= crash_receives. The response also carries the run's start and end (wall clock)."""

from __future__ import annotations

import json
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.time()
    records = event["Records"]
    bodies = [json.loads(r["body"]) for r in records]
    counts = [int(r["attributes"]["ApproximateReceiveCount"]) for r in records]
    time.sleep(max([b.get("sleep", 0) for b in bodies], default=0))
    if any(count <= b.get("crash_receives", 0) for b, count in zip(bodies, counts, strict=True)):
        raise RuntimeError("crash requested")
    failures = [{"itemIdentifier": r["messageId"]} for r, b, count in zip(records, bodies, counts, strict=True)
                if count <= b.get("fail_receives", 0)]
    if any(b.get("bad_response") for b in bodies):
        failures = [{"itemIdentifier": "not-a-message-of-this-batch"}]
    return {"batchItemFailures": failures, "started": started, "ended": time.time()}
