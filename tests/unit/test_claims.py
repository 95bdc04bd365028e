"""The start function's hold on a job (faceswap.claims), on a real DynamoDB table (moto): exactly one attempt holds
a job, an attempt whose claim was taken over can no longer spend, record, queue or release anything, and a queued
job is taken back only by the message that carries its current queue token."""

from __future__ import annotations

import time
from typing import Any

import pytest

from faceswap.claims import Claims, InputFacts
from faceswap.jobs import JobSpec
from faceswap.records import ClaimLost

FACTS = InputFacts(video_bytes=1000, face_bytes=100, duration_seconds=3.0)


def _job(name: str) -> JobSpec:
    return JobSpec(name, "videos/clip.mp4", "faces/face.png")


def _record(aws: dict[str, Any], job_id: str) -> dict[str, Any]:
    return dict(aws["table"].get_item(Key={"pk": f"JOB#{job_id}"}, ConsistentRead=True)["Item"])


def test_one_of_many_duplicate_claims_wins(aws: dict[str, Any]) -> None:
    claims = Claims(aws["table"], time.time)
    won = [claims.claim(_job("dup"), f"message-{i}").won for i in range(5)]
    assert won == [True, False, False, False, False]


def test_an_abandoned_claim_is_taken_over_by_exactly_one_attempt(aws: dict[str, Any]) -> None:
    claims = Claims(aws["table"], time.time)
    assert claims.claim(_job("abandoned"), "dead-attempt").won
    seen = _record(aws, "abandoned")

    # Both read the claim before either moved it: the token moved, so the second is a plain duplicate.
    taken = [claims.take_over("abandoned", seen, attempt) for attempt in ("redelivery", "other-message")]

    assert taken[0] is not None and taken[1] is None
    token, record = taken[0]
    assert record["claim_token"] == token and record["state"] == "STARTING" and record["claimed_by"] == "redelivery"


def test_an_attempt_whose_claim_was_taken_over_can_no_longer_spend_record_queue_or_release(
        aws: dict[str, Any]) -> None:
    claims = Claims(aws["table"], time.time)
    first = claims.claim(_job("fenced"), "first")
    taken = claims.take_over("fenced", _record(aws, "fenced"), "second")
    assert taken is not None
    second = taken[0]

    with pytest.raises(ClaimLost):
        claims.mark_creating("fenced", first.token, time.time())  # the old holder may not reach the create call
    with pytest.raises(ClaimLost):
        claims.mark_queued("fenced", first.token, "q1", "no_free_slot", time.time(), FACTS)  # nor queue it
    claims.release("fenced", first.token)  # nor delete the new holder's claim (silently refused)
    claims.mark_creating("fenced", second, time.time())
    with pytest.raises(ClaimLost):
        claims.mark_creating("fenced", second, time.time())  # once per create call
    with pytest.raises(ClaimLost):
        claims.mark_submitted("fenced", first.token, "task-1", units=1, duration_seconds=1.0, interval_seconds=5)
    claims.mark_submitted("fenced", second, "task-1", units=1, duration_seconds=1.0, interval_seconds=5)
    record = _record(aws, "fenced")
    assert record["state"] == "SUBMITTED" and record["task_id"] == "task-1"


def test_a_queued_job_is_taken_back_only_by_its_live_message(aws: dict[str, Any]) -> None:
    claims = Claims(aws["table"], time.time)
    claim = claims.claim(_job("waiting"), "upload-event")
    assert claims.mark_queued("waiting", claim.token, "queue-token-1", "no_free_slot", 1000.0, FACTS)
    record = _record(aws, "waiting")
    assert (record["state"], record["queue_reason"], record["queued_since"]) == ("QUEUED", "no_free_slot",
                                                                                  "1970-01-01T00:16:40Z")
    assert "claim_token" not in record

    # A duplicate of the upload's event, or an older copy of a waiting message, carries another token.
    assert claims.take_queued("waiting", "duplicate", "queue-token-0") is None
    taken = claims.take_queued("waiting", "waiting-message", "queue-token-1")
    assert taken is not None
    token, record = taken
    assert record["state"] == "STARTING" and InputFacts.from_record(record) == FACTS
    assert claims.take_queued("waiting", "same-message-again", "queue-token-1") is None  # taken once

    # Queued again (a new message): the first queueing time stays, and it is not the first time.
    assert not claims.mark_queued("waiting", token, "queue-token-2", "no_rate_token", 2000.0, FACTS)
    assert _record(aws, "waiting")["queued_since"] == "1970-01-01T00:16:40Z"


def test_a_429_on_create_lets_a_later_attempt_create(aws: dict[str, Any]) -> None:
    claims = Claims(aws["table"], time.time)
    claim = claims.claim(_job("throttled"), "m1")
    claims.mark_creating("throttled", claim.token, time.time())
    # The vendor answered 429 (nothing created): queued again, the "creating" phase goes with the claim.
    claims.mark_queued("throttled", claim.token, "qt", "vendor_busy", time.time(), FACTS)
    taken = claims.take_queued("throttled", "m2", "qt")
    assert taken is not None
    assert "phase" not in taken[1]
    claims.mark_creating("throttled", taken[0], time.time())


def test_vendor_file_ids_are_kept_for_the_next_attempt(aws: dict[str, Any]) -> None:
    claims = Claims(aws["table"], lambda: 1234.0)
    claim = claims.claim(_job("uploaded"), "m1")
    claims.record_vendor_files("uploaded", claim.token, "file-src", "file-ref")
    assert _record(aws, "uploaded")["vendor_files"] == {"src": "file-src", "ref": "file-ref", "uploaded_epoch": 1234}


def test_a_claim_written_before_fencing_tokens_can_still_be_taken_over(aws: dict[str, Any]) -> None:
    aws["table"].put_item(Item={"pk": "JOB#legacy", "job_id": "legacy", "state": "STARTING", "created_epoch": 0})
    claims = Claims(aws["table"], time.time)
    assert claims.take_over("legacy", _record(aws, "legacy"), "retry") is not None
