"""Granted actions that no recorded call uses, each with its reason: the one place to list them.

An entry names principals (function handler modules, state machine names, globs) and actions (lower-case globs).
The reasons: calls no SDK makes (the service uses the role itself), error paths no scenario reaches, and the start
function's grants, which Ingest's rewrite replaces. An entry that matches no unused grant fails the proof too:
when a grant goes, its entry goes.
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
           "(tests/unit/test_webhook_callbacks.py; no end-to-end scenario delivers the webhook that early)"),
    # --- the start function's grants, as they are: Ingest and its start path are being rewritten (issue 11) ----
    Unused(("start_job",), TABLE_DATA,
           "start function, left to Ingest's rewrite: grant_read_write_data gives the whole table's read/write set "
           "(Scan, Query, batches, streams); it uses a few item calls"),
    Unused(("start_job",), ("secretsmanager:describesecret",),
           "start function, left to Ingest's rewrite: grant_read adds DescribeSecret; it only calls GetSecretValue"),
    Unused(("start_job",), ("s3:putobjectlegalhold", "s3:putobjectretention", "s3:putobjecttagging",
                            "s3:putobjectversiontagging", "s3:abortmultipartupload"),
           "start function, left to Ingest's rewrite: grant_put adds object-lock, tagging and Abort* actions; it "
           "writes small JSON files in one PutObject"),
    Unused(("start_job",), ("s3:getbucket*", "s3:list*", "s3:getobject?*"),
           "start function, left to Ingest's rewrite: grant_read's bucket-wide reads and listing, object ACL/tag/"
           "version reads; it only reads its inputs (GetObject, HeadObject = s3:GetObject)"),
    Unused(("start_job",), ("sqs:getqueueattributes", "sqs:getqueueurl"),
           "start function, left to Ingest's rewrite: the SQS on-failure destination grants grantSendMessages; "
           "Lambda only sends"),
)


def allowance(principal: str, action: str) -> Unused | None:
    return next((entry for entry in ALLOWED_UNUSED if entry.covers(principal, action)), None)
