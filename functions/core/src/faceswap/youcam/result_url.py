"""Where a successful status answer carries the result video's URL.

The documented place is `data.results.url` ("URL to download this result. Valid for 2 hours"), but the vendor's
schema renders it garbled: `results: null` inside `data`, and the `{url}` object referenced from the response
itself, beside `data` (face-swap-vid OpenAPI, VidTaskStatusResponseV2, archived 2026-09-16); other features
document `results` as a list. Failing a job whose units are already spent over where the URL sits would be the
worst reading, so the answer is searched, in this order, for the first http(s) URL:

1. in `data`, under each of RESULT_KEYS in turn (`results` first: the documented place);
2. in the response itself, under the same keys (the garbled schema's reading).

Under a key, a string is taken if it is an http(s) URL; in an object its `url` and `urls` come first, then its
other values in their order; in a list, its items in order (nested at most MAX_DEPTH deep).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RESULT_KEYS = ("results", "result", "result_url", "result_urls", "url", "urls", "output", "output_url",
               "video_url", "download_url")
MAX_DEPTH = 4
_FIRST_KEYS = ("url", "urls")


def find_result_url(body: Any) -> str | None:
    """The first http(s) URL under a result key of `data`, then of the response; None if there is none."""
    if not isinstance(body, Mapping):
        return None
    scopes = [body.get("data"), body]
    for scope in scopes:
        if not isinstance(scope, Mapping):
            continue
        for key in RESULT_KEYS:
            found = _first_url(scope.get(key), MAX_DEPTH)
            if found:
                return found
    return None


def _first_url(value: Any, depth: int) -> str | None:
    if isinstance(value, str):
        text = value.strip()
        return text if text.lower().startswith(("https://", "http://")) and len(text) > 8 else None
    if depth <= 0:
        return None
    if isinstance(value, Mapping):
        ordered = [value[k] for k in _FIRST_KEYS if k in value] + [v for k, v in value.items() if k not in _FIRST_KEYS]
        return next((url for item in ordered if (url := _first_url(item, depth - 1))), None)
    if isinstance(value, list | tuple):
        return next((url for item in value if (url := _first_url(item, depth - 1))), None)
    return None
