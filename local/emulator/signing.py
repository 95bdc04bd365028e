"""Presigned-style URLs for uploads and results: HMAC over method, path and expiry, like S3's query auth."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode


class UrlSigner:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _signature(self, method: str, path: str, expires: str) -> str:
        message = f"{method.upper()}\n{path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, method: str, path: str, expires_at: float) -> str:
        """Absolute URL for `path`, valid for `method` until the unix time `expires_at`."""
        # Millisecond precision (not S3's whole seconds) so tests can use sub-second lifetimes.
        expires = f"{expires_at:.3f}"
        query = urlencode({"expires": expires, "signature": self._signature(method, path, expires)})
        return f"{base_url}{path}?{query}"

    def check(self, method: str, path: str, query: dict[str, str], now: float) -> str | None:
        """None when valid, else the S3-style error code: SignatureDoesNotMatch or AccessDenied (expired)."""
        expires = query.get("expires", "")
        expected = self._signature(method, path, expires)
        if not expires or not hmac.compare_digest(expected, query.get("signature", "")):
            return "SignatureDoesNotMatch"
        if now > float(expires):
            return "AccessDenied"
        return None
