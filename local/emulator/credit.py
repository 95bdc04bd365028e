"""The unit system endpoints, shaped as the vendor's unit-system OpenAPI documents them
(api-evangelist/perfect-corp openapi/_original/perfect-corp-unit_system-openapi.yml, archived 2026-09-16):

- GET /s2s/v1.0/client/credit: {"status": 200, "results": [{"id": int, "type": "ApiSubsToken" | "ApiPaygToken",
  "amount": int (deprecated: "Use amount_dec instead"), "amount_dec": number (two decimals), "expiry": int (ms)}]}.
- GET /s2s/v2.0/credit/feature-cost?page_size=1..20 (default 20)&starting_token=...: {"status": 200, "result":
  {"skus": [{"description": str, "amount": number, "unit": "result_image" | "second", "proc_unit": int,
  "run_task_url": str}], "next_token": str | null}}; the documented token "MjA" is base64("20"), an offset.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any

from local.emulator.clock import Clock
from local.emulator.config import CREDIT_PATH, FEATURE_COST_PATH, TASK_PATH
from local.emulator.faults import Faults
from local.emulator.routing import ApiError, Request, Response, RouteKind, Router, json_response

MAX_PAGE_SIZE = 20
CREDIT_ID = 13105541279084536  # the documented example id (larger than 2**53: clients must not use floats)
CREDIT_LIFETIME_MS = 365 * 24 * 3600 * 1000


def feature_skus(base_url: str) -> list[dict[str, Any]]:
    # The video face swap's entry follows its documented cost (1 unit per 5 s); the others are illustrative.
    return [
        {"description": "AI Video Face Swap", "amount": 1, "unit": "second", "proc_unit": 5,
         "run_task_url": f"{base_url}{TASK_PATH}"},
        {"description": "AI Face Swap", "amount": 1, "unit": "result_image", "proc_unit": 1,
         "run_task_url": f"{base_url}/s2s/v2.0/task/face-swap"},
        {"description": "AI Background Removal", "amount": 1, "unit": "result_image", "proc_unit": 1,
         "run_task_url": f"{base_url}/s2s/v2.0/task/sod"},
    ]


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def page_offset(token: str) -> int:
    try:
        offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "Invalid parameter value: starting_token", "InvalidParameters") from exc
    if offset < 0:
        raise ApiError(400, "Invalid parameter value: starting_token", "InvalidParameters")
    return offset


class CreditEndpoints:
    def __init__(self, faults: Faults, clock: Clock, base_url: Callable[[], str]) -> None:
        self._faults = faults
        self._clock = clock
        self._base_url = base_url

    def register(self, router: Router) -> None:
        router.add("GET", CREDIT_PATH, RouteKind.VENDOR, self.credit)
        router.add("GET", FEATURE_COST_PATH, RouteKind.VENDOR, self.feature_cost)

    def credit(self, request: Request) -> Response:
        balance = round(float(self._faults.credit_units), 2)
        entry: dict[str, Any] = {"id": CREDIT_ID, "type": "ApiPaygToken", "amount": math.floor(balance),
                                 "amount_dec": balance,
                                 "expiry": int(self._clock.now() * 1000) + CREDIT_LIFETIME_MS}
        if self._faults.credit_legacy_amount:  # an answer from before amount_dec existed
            del entry["amount_dec"]
        entries = [entry, *(dict(extra) for extra in self._faults.credit_extra_entries or [])]
        return json_response(200, {"status": 200, "results": entries})

    def feature_cost(self, request: Request) -> Response:
        skus = feature_skus(self._base_url())
        try:
            page_size = int(request.query.get("page_size") or MAX_PAGE_SIZE)
        except ValueError as exc:
            raise ApiError(400, "Invalid parameter value: page_size", "InvalidParameters") from exc
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ApiError(400, f"Invalid parameter value: page_size must be 1..{MAX_PAGE_SIZE}",
                           "InvalidParameters")
        token = request.query.get("starting_token") or ""
        start = page_offset(token) if token and token != "null" else 0
        end = start + page_size
        next_token = page_token(end) if end < len(skus) else None
        return json_response(200, {"status": 200, "result": {"skus": skus[start:end], "next_token": next_token}})
