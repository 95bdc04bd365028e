"""Grants as narrow as the calls they allow: item actions on key prefixes of the jobs table, a secret's value, object
writes under one prefix. (CDK's grant_read_write_data, grant_read and grant_put give whole action groups: Scan,
BatchWriteItem and DescribeTable on the whole table, DescribeSecret, object tagging and legal holds.)
tests/iam proves each of these is used by a recorded call, and each call allowed."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm


def grant_items(grantee: iam.IGrantable, table: ddb.ITable, actions: Sequence[str],
                key_prefixes: Sequence[str]) -> None:
    """`dynamodb:<action>` on the items whose partition key starts with one of `key_prefixes` (JOB#, TASK#...).

    ForAllValues:StringLike: every key a request names must match (a request naming none would pass, so only item
    actions, which always name their key, belong here)."""
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=[f"dynamodb:{action}" for action in actions], resources=[table.table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{p}*" for p in key_prefixes]}}))


def grant_secret_value(grantee: iam.IGrantable, secret: sm.ISecret) -> None:
    """GetSecretValue only (Powertools' get_secret calls nothing else): no DescribeSecret as grant_read adds."""
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]))


def grant_object_writes(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: str, *, multipart: bool) -> None:
    """PutObject under `prefix` (every part of a multipart upload is PutObject too); AbortMultipartUpload only for a
    writer whose multipart upload can fail half-way and is aborted."""
    actions = ["s3:PutObject", *(["s3:AbortMultipartUpload"] if multipart else [])]
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=actions, resources=[bucket.arn_for_objects(f"{prefix}*")]))
