"""The HTTP session and its retry policy (urllib3 Retry mounted per URL prefix).

Which calls urllib3 retries, on 429 / 5xx / connection errors, with exponential backoff plus jitter and
the vendor's Retry-After honoured (capped):

- GET status, GET credit, GET result URL: 429, 5xx and lost answers (idempotent).
- POST file registration: 429, 5xx and lost answers (a duplicate only leaves an unused file id).
- POST create task: 429 always (the vendor did no work); 5xx and lost answers only if
  settings.retry_create_on_server_error (else it may double-create, and double-bill, a task).
- PUT to the presigned upload URL: never (a streamed body cannot be replayed).

A failed connect (nothing was sent) is retried for every call. 4xx other than 429 is never retried.
With raise_on_status=False the last answer comes back to the client, which maps it to a typed error.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from faceswap.config import VendorSettings

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _RetryPostOn429(Retry):
    """Retry, plus: a POST answered 429 is retried even when POST is not an allowed method.

    The vendor answers 429 before doing any work, so re-sending is safe even for create-task.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST" and status_code == 429 and 429 in (self.status_forcelist or ()):
            return True
        return super().is_retry(method, status_code, has_retry_after)


def _retry(settings: VendorSettings, methods: frozenset[str], cls: type[Retry] = Retry) -> Retry:
    return cls(
        total=settings.max_retries,
        allowed_methods=methods,
        status_forcelist=settings.retry_statuses,
        backoff_factor=settings.backoff_factor_seconds,
        backoff_jitter=settings.backoff_jitter_seconds,
        respect_retry_after_header=True,
        retry_after_max=settings.max_retry_after_seconds,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def mount_retrying_adapters(session: requests.Session, settings: VendorSettings) -> requests.Session:
    """Mount the retry policy above on `session` (the longest matching URL prefix wins)."""
    task_methods = IDEMPOTENT_METHODS | ({"POST"} if settings.retry_create_on_server_error else set())
    # Everything outside the API (presigned upload and result URLs): PUT is not an allowed method.
    transfer = HTTPAdapter(max_retries=_retry(settings, IDEMPOTENT_METHODS))
    api = HTTPAdapter(max_retries=_retry(settings, IDEMPOTENT_METHODS | {"POST"}))
    task = HTTPAdapter(max_retries=_retry(settings, frozenset(task_methods), _RetryPostOn429))
    base = settings.base_url.rstrip("/")
    session.mount("http://", transfer)
    session.mount("https://", transfer)
    session.mount(base + "/", api)
    # The create call and, below it, the status calls.
    session.mount(base + settings.task_path.rstrip("/"), task)
    return session


def new_session(settings: VendorSettings, session: requests.Session | None = None) -> requests.Session:
    return mount_retrying_adapters(session or requests.Session(), settings)
