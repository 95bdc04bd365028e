"""Presigned S3 URLs made by boto3's generate_presigned_url are answered as S3 answers them (local.aws.s3_presign):
served while valid, 403 "Request has expired" after, 403 SignatureDoesNotMatch when anything signed was changed."""

from __future__ import annotations

import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.config import Config

from local.aws.server import REGION, boto_client
from local.aws.stack import LocalStack

BUCKET = "presign-test"
KEY = "inputs/a video ü+1.mp4"  # a space, a non-ASCII letter and a plus, all percent-encoded in the path
VERSIONS = {"sigv2": Config(), "sigv4": Config(signature_version="s3v4")}


@pytest.fixture(scope="module")
def bucket(aws: LocalStack) -> Iterator[str]:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"video bytes")
    yield BUCKET
    for entry in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=entry["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def presign(aws: LocalStack, version: str, method: str = "get_object", expires: int = 300,
            **params: Any) -> str:
    s3 = aws.client("s3", config=VERSIONS[version])
    url: str = s3.generate_presigned_url(method, Params={"Bucket": BUCKET, "Key": KEY, **params}, ExpiresIn=expires)
    return url


def error(response: requests.Response) -> tuple[int, str, str]:
    root = ET.fromstring(response.content)
    return response.status_code, root.findtext("Code") or "", root.findtext("Message") or ""


def with_param(url: str, name: str, value: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, value if k == name else v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, quote_via=urllib.parse.quote)))


@pytest.mark.parametrize("version", VERSIONS)
def test_a_valid_url_is_served_with_its_response_overrides(aws: LocalStack, bucket: str, version: str) -> None:
    response = requests.get(presign(aws, version), timeout=10)
    assert (response.status_code, response.content) == (200, b"video bytes")
    disposition = 'attachment; filename="a.mp4"'
    response = requests.get(presign(aws, version, ResponseContentDisposition=disposition), timeout=10)
    assert response.status_code == 200 and response.headers["Content-Disposition"] == disposition
    in_lambda = boto_client("s3", region_name=REGION, endpoint_url=aws.endpoint_url, config=VERSIONS[version],
                            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing")
    url = in_lambda.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY})
    assert "x-amz-security-token=testing" in url.lower()  # the session token is part of what is signed
    assert requests.get(url, timeout=10).status_code == 200


@pytest.mark.parametrize("version", VERSIONS)
def test_an_expired_url_is_refused(aws: LocalStack, bucket: str, version: str) -> None:
    url = presign(aws, version, expires=1)
    time.sleep(2.1)
    assert error(requests.get(url, timeout=10)) == (403, "AccessDenied", "Request has expired")


@pytest.mark.parametrize("version", VERSIONS)
def test_a_tampered_url_is_refused(aws: LocalStack, bucket: str, version: str) -> None:
    url = presign(aws, version)
    signature = "X-Amz-Signature" if version == "sigv4" else "Signature"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    value = query[signature][0]
    expires = "X-Amz-Expires" if version == "sigv4" else "Expires"  # seconds to live, or an epoch time
    tampered = [
        with_param(url, signature, ("0" if value[0] != "0" else "1") + value[1:]),  # another signature
        url.replace("/inputs/", "/other/"),  # another object
        with_param(url, expires, str(int(query[expires][0]) + 100)),  # a longer life
    ]
    for changed in tampered:
        assert error(requests.get(changed, timeout=10))[:2] == (403, "SignatureDoesNotMatch"), changed


@pytest.mark.parametrize("version", VERSIONS)
def test_a_presigned_put_uploads_only_what_was_signed(aws: LocalStack, bucket: str, version: str) -> None:
    url = presign(aws, version, method="put_object", ContentType="video/mp4")
    refused = requests.put(url, data=b"new", headers={"Content-Type": "text/plain"}, timeout=10)
    assert error(refused)[:2] == (403, "SignatureDoesNotMatch")
    assert requests.put(url, data=b"new", headers={"Content-Type": "video/mp4"}, timeout=10).status_code == 200
    assert aws.client("s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"new"
    aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"video bytes")


def test_an_unknown_key_and_a_life_over_a_week_are_refused(aws: LocalStack, bucket: str) -> None:
    stranger = boto_client("s3", region_name=REGION, endpoint_url=aws.endpoint_url, config=VERSIONS["sigv4"],
                           aws_access_key_id="AKIASTRANGER", aws_secret_access_key="x")
    url = stranger.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY})
    assert error(requests.get(url, timeout=10))[:2] == (403, "InvalidAccessKeyId")
    week = presign(aws, "sigv4", expires=604801)
    assert error(requests.get(week, timeout=10))[:2] == (400, "AuthorizationQueryParametersError")


def test_sdk_requests_are_not_affected(aws: LocalStack, bucket: str) -> None:
    assert aws.client("s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"video bytes"
