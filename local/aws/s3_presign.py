"""Presigned S3 URLs answered as S3 answers them: moto 5.2.5 serves any, expired or tampered.

A request to an object or a bucket whose query string carries a presigned signature, SigV4 (`X-Amz-Algorithm`,
`X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`) or SigV2
(`AWSAccessKeyId`, `Expires`, `Signature`: what boto3 makes for us-east-1 unless told `s3v4`), is checked before
moto serves it, in this order:
- `X-Amz-Expires` above 604800 s (7 days): 400 AuthorizationQueryParametersError;
- expired (`X-Amz-Date` + `X-Amz-Expires`, or `Expires`, in the past; wall-clock time, not the stack's time scale):
  403 AccessDenied "Request has expired";
- an access key nobody issued (the harness's fake credentials, or an IAM user's key in moto): 403
  InvalidAccessKeyId;
- a signature that the request does not reproduce (another method, path, signed header or query parameter): 403
  SignatureDoesNotMatch.
Requests signed in the Authorization header (the SDKs' own calls) are left to moto, as before.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import urllib.parse
import uuid
from typing import Any
from xml.sax.saxutils import escape

from botocore.auth import HmacV1Auth
from moto.iam.models import iam_backends
from moto.s3.responses import S3Response

from local.aws.patches import Patches
from local.aws.server import FAKE_CREDENTIALS

MAX_EXPIRES_S = 604800
_V4 = "AWS4-HMAC-SHA256"
Refusal = tuple[int, dict[str, str], str]
_patches = Patches()


def install() -> None:
    """Idempotent; `uninstall()` restores moto."""
    if _patches.applied:
        return
    for name in ("key_response", "bucket_response"):
        _patches.apply(S3Response, name, _checked(getattr(S3Response, name)))


def uninstall() -> None:
    _patches.undo()


def _checked(respond: Any) -> Any:
    def respond_if_signed(self: S3Response, request: Any, full_url: str, headers: Any) -> Any:
        refusal = refusal_of(request) if hasattr(request, "environ") else None
        return refusal or respond(self, request, full_url, headers)

    return respond_if_signed


def refusal_of(request: Any) -> Refusal | None:
    """S3's answer to a presigned request it would refuse; None for one it accepts or one not presigned."""
    raw_query = request.environ.get("QUERY_STRING", "")
    params = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    raw_path = (request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "").split("?")[0]
    path = raw_path or urllib.parse.quote(request.path)
    try:
        if params.get("X-Amz-Algorithm") == _V4 and "X-Amz-Signature" in params:
            return _check_v4(request, path, raw_query, params)
        if {"AWSAccessKeyId", "Signature", "Expires"} <= set(params):
            return _check_v2(request, path, params)
    except ValueError as exc:  # a date, a number or a credential scope that does not parse
        return _error(400, "AuthorizationQueryParametersError", f"Malformed presigned query parameters: {exc}")
    return None


def _check_v4(request: Any, path: str, raw_query: str, params: dict[str, str]) -> Refusal | None:
    access_key, date, region, service, _ = params.get("X-Amz-Credential", "////").split("/", 4)
    expires, amz_date = int(params.get("X-Amz-Expires", "0")), params.get("X-Amz-Date", "")
    signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    if expires > MAX_EXPIRES_S:
        return _error(400, "AuthorizationQueryParametersError",
                      "X-Amz-Expires must be less than a week (in seconds) that is; 604800")
    if signed_at + datetime.timedelta(seconds=expires) < _now():
        return _expired(signed_at + datetime.timedelta(seconds=expires), {"X-Amz-Expires": str(expires)})
    secret = _secret_of(access_key)
    if secret is None:
        return _unknown_key(access_key)
    signed_headers = params.get("X-Amz-SignedHeaders", "host").split(";")
    canonical = "\n".join([
        request.method, path, _canonical_query(raw_query),
        "".join(f"{h}:{' '.join(str(request.headers.get(h, '')).split())}\n" for h in signed_headers),
        ";".join(signed_headers), "UNSIGNED-PAYLOAD"])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([_V4, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    if hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), params["X-Amz-Signature"]):
        return None
    return _mismatch(access_key, to_sign, params["X-Amz-Signature"], canonical)


def _canonical_query(raw_query: str) -> str:
    pairs = [part.partition("=") for part in raw_query.split("&") if part]
    encoded = sorted((_uri_encode(k), _uri_encode(v)) for k, _, v in pairs
                     if urllib.parse.unquote(k) != "X-Amz-Signature")
    return "&".join(f"{k}={v}" for k, v in encoded)


def _uri_encode(value: str) -> str:
    return urllib.parse.quote(urllib.parse.unquote(value), safe="-_.~")


def _check_v2(request: Any, path: str, params: dict[str, str]) -> Refusal | None:
    expires = int(params["Expires"])
    if expires < _now().timestamp():
        return _expired(datetime.datetime.fromtimestamp(expires, datetime.UTC), {})
    secret = _secret_of(params["AWSAccessKeyId"])
    if secret is None:
        return _unknown_key(params["AWSAccessKeyId"])
    # x-amz-* values signed as headers travel in the query (the session token does)
    amz = [*request.headers.items(), *params.items()]
    amz_headers = sorted({(k.lower(), " ".join(str(v).split())) for k, v in amz if k.lower().startswith("x-amz-")})
    subresources = sorted((k, v) for k, v in params.items() if k in HmacV1Auth.QSAOfInterest)
    resource = path + ("?" + "&".join(f"{k}={v}" if v else k for k, v in subresources) if subresources else "")
    to_sign = "\n".join([request.method, request.headers.get("Content-MD5", ""),
                         request.headers.get("Content-Type", ""), params["Expires"],
                         "".join(f"{k}:{v}\n" for k, v in amz_headers) + resource])
    expected = base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    if hmac.compare_digest(expected, params["Signature"]):
        return None
    return _mismatch(params["AWSAccessKeyId"], to_sign, params["Signature"], None)


def _secret_of(access_key: str) -> str | None:
    if access_key == FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]:
        return FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    for account in list(iam_backends.values()):
        key = account["aws"].access_keys.get(access_key)
        if key is not None:
            return str(key.secret_access_key)
    return None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _expired(expired_at: datetime.datetime, extra: dict[str, str]) -> Refusal:
    return _error(403, "AccessDenied", "Request has expired",
                  {**extra, "Expires": _iso(expired_at), "ServerTime": _iso(_now())})


def _unknown_key(access_key: str) -> Refusal:
    return _error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                  {"AWSAccessKeyId": access_key})


def _mismatch(access_key: str, to_sign: str, provided: str, canonical: str | None) -> Refusal:
    fields = {"AWSAccessKeyId": access_key, "StringToSign": to_sign, "SignatureProvided": provided}
    if canonical is not None:
        fields["CanonicalRequest"] = canonical
    return _error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                  "you provided. Check your key and signing method.", fields)


def _error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Refusal:
    extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in (fields or {}).items())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message>'
            f"{extra}<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>local</HostId></Error>")
    return status, {"Content-Type": "application/xml"}, body
