"""Typed client for the YouCam (Perfect Corp) AI Video Face Swap API.

Names are imported lazily (PEP 562) so that a Lambda that only verifies webhooks or maps errors does not
pay for importing requests/urllib3 (most of the client's cold-import time).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faceswap.youcam.client import YouCamClient
    from faceswap.youcam.errors import (
        ContentRejected,
        EndpointNotFound,
        EngineError,
        InsufficientCredit,
        InvalidApiKey,
        InvalidParameters,
        InvalidTaskId,
        MediaDownloadFailed,
        MediaRejected,
        NoFaceDetected,
        RateLimited,
        ResultDownloadFailed,
        ServerError,
        TaskFailed,
        TaskTimedOut,
        UnexpectedResponse,
        UploadRejected,
        VendorUnreachable,
        YouCamError,
        error_from_response,
        task_error_from_code,
    )
    from faceswap.youcam.models import (
        CreatedTask,
        CreditBalance,
        CreditEntry,
        TaskStatus,
        UploadTicket,
        parse_polling_interval,
    )
    from faceswap.youcam.streaming import ResultDownload
    from faceswap.youcam.webhooks import WebhookEvent, WebhookRejected, sign_webhook, verify_webhook

__all__ = [
    "ContentRejected",
    "CreatedTask",
    "CreditBalance",
    "CreditEntry",
    "EndpointNotFound",
    "EngineError",
    "InsufficientCredit",
    "InvalidApiKey",
    "InvalidParameters",
    "InvalidTaskId",
    "MediaDownloadFailed",
    "MediaRejected",
    "NoFaceDetected",
    "RateLimited",
    "ResultDownload",
    "ResultDownloadFailed",
    "ServerError",
    "TaskFailed",
    "TaskStatus",
    "TaskTimedOut",
    "UnexpectedResponse",
    "UploadRejected",
    "UploadTicket",
    "VendorUnreachable",
    "WebhookEvent",
    "WebhookRejected",
    "YouCamClient",
    "YouCamError",
    "error_from_response",
    "parse_polling_interval",
    "sign_webhook",
    "task_error_from_code",
    "verify_webhook",
]

# Which module defines each public name (imported on first use).
_MODULE_OF = {
    "YouCamClient": "client",
    "ContentRejected": "errors",
    "EndpointNotFound": "errors",
    "EngineError": "errors",
    "InsufficientCredit": "errors",
    "InvalidApiKey": "errors",
    "InvalidParameters": "errors",
    "InvalidTaskId": "errors",
    "MediaDownloadFailed": "errors",
    "MediaRejected": "errors",
    "NoFaceDetected": "errors",
    "RateLimited": "errors",
    "ResultDownloadFailed": "errors",
    "ServerError": "errors",
    "TaskFailed": "errors",
    "TaskTimedOut": "errors",
    "UnexpectedResponse": "errors",
    "UploadRejected": "errors",
    "VendorUnreachable": "errors",
    "YouCamError": "errors",
    "error_from_response": "errors",
    "task_error_from_code": "errors",
    "CreatedTask": "models",
    "CreditBalance": "models",
    "CreditEntry": "models",
    "TaskStatus": "models",
    "UploadTicket": "models",
    "parse_polling_interval": "models",
    "ResultDownload": "streaming",
    "WebhookEvent": "webhooks",
    "WebhookRejected": "webhooks",
    "sign_webhook": "webhooks",
    "verify_webhook": "webhooks",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
