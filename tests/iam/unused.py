"""Granted actions that no recorded call uses, each with its reason: the one place to list them.

An entry names principals (function handler modules, state machine names, globs) and actions (lower-case globs).
The reasons: calls no SDK makes (the service uses the role itself), error paths no scenario reaches, and races that
some runs reach and others do not (`race=True`). An entry that matches no unused grant fails the proof too, unless
it is such a race: when a grant goes, its entry goes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Unused:
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    reason: str
    race: bool = False  # reached by some runs only: used or not, the entry stays

    def covers(self, principal: str, action: str) -> bool:
        return any(fnmatch.fnmatchcase(principal, p) for p in self.principals) and \
            any(fnmatch.fnmatchcase(action, a) for a in self.actions)


FUNCTIONS = ("start_job", "detect_faces", "check_status", "store_token", "finalize", "record_failure",
             "execution_failed", "webhook", "publish_job_events", "BucketNotificationsHandler*")
MACHINES = ("Job", "Poller")
TABLE_DATA = ("dynamodb:batchgetitem", "dynamodb:batchwriteitem", "dynamodb:conditioncheckitem",
              "dynamodb:deleteitem", "dynamodb:describetable", "dynamodb:getitem", "dynamodb:getrecords",
              "dynamodb:getsharditerator", "dynamodb:putitem", "dynamodb:query", "dynamodb:scan", "dynamodb:updateitem")

ALLOWED_UNUSED: Sequence[Unused] = (
    # --- used by the services themselves, with the role ---------------------------------------------------------
    Unused(FUNCTIONS, ("logs:createloggroup", "logs:createlogstream", "logs:putlogevents"),
           "AWSLambdaBasicExecutionRole: Lambda writes the function's logs with its role"),
    Unused(FUNCTIONS[:-1] + MACHINES, ("xray:puttracesegments", "xray:puttelemetryrecords"),
           "active tracing: Lambda's and Step Functions' X-Ray integration sends the segments with the role"),
    Unused(MACHINES, ("xray:getsamplingrules", "xray:getsamplingtargets"),
           "Step Functions' X-Ray tracing reads the sampling rules with the role"),
    Unused(MACHINES, ("logs:createlogdelivery", "logs:deletelogdelivery", "logs:describeloggroups",
                      "logs:describeresourcepolicies", "logs:getlogdelivery", "logs:listlogdeliveries",
                      "logs:putresourcepolicy", "logs:updatelogdelivery"),
           "execution logging: Step Functions sets up the CloudWatch Logs delivery with the role (CDK's LogOptions)"),
    Unused(("finalize",), ("s3:abortmultipartupload",),
           "error path: the result upload (multipart) is aborted when it fails"),
    Unused(("publish_job_events",), ("dynamodb:liststreams",),
           "Lambda checks that the role may ListStreams on the stream when the event source mapping is created; "
           "reading the stream never lists streams"),
    Unused(("publish_job_events",), ("sqs:sendmessage",),
           "error path: Lambda sends the stream mapping's records that expired unpublished (after 24 h of retries) "
           "to its dead-letter queue with the role"),
    Unused(("store_token",), ("states:sendtasksuccess",),
           "race: a success webhook that arrived before the token was stored is signalled by the token store "
           "(tests/unit/test_webhook_callbacks.py; end-to-end runs reach it only when a webhook wins the race)",
           race=True),
    Unused(("start_job",), ("dynamodb:deleteitem",),
           "error path: a fresh claim is given back (deleted) when an unexpected fault stops the start before "
           "anything was checked or spent (tests/unit/test_claims.py; no end-to-end scenario faults there)"),
    Unused(("start_job",), ("sqs:changemessagevisibility",),
           "error path: a start that raised shortens its message's visibility timeout so that it is retried soon"),
)


def allowance(principal: str, action: str) -> Unused | None:
    return next((entry for entry in ALLOWED_UNUSED if entry.covers(principal, action)), None)
