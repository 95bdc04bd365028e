"""`MotoServer`: moto's threaded HTTP server on a free loopback port, with boto3 pointed at it.

Everything (boto3 in this process, the Lambda workers, Step Functions' own lambda:invoke client) talks to the
server over real HTTP. While the context is open the process environment carries the endpoint, fake
credentials and `MOTO_PORT` (Step Functions calls Lambda at http://localhost:$MOTO_PORT); it is restored on exit.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# Variables that would steer boto3 away from the fake credentials or the local endpoint.
_CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")
# The parser dumps whole internal objects on every state error; werkzeug logs every request.
_NOISY_LOGGERS = ("moto.stepfunctions.parser", "werkzeug")


def boto_client(service: str, **kwargs: Any) -> Any:
    """`boto3.client` for a service named at run time (the typed stubs only accept literal names)."""
    factory: Any = boto3.client
    return factory(service, **kwargs)


class MotoServer:
    """Context manager: `with MotoServer() as moto: moto.client("s3").list_buckets()`."""

    def __init__(self, region: str = REGION, port: int = 0) -> None:
        self.region = region
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._saved_env: dict[str, str | None] = {}
        self._saved_levels: dict[str, int] = {}
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        if not self.port:
            raise RuntimeError("MotoServer is not running")
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MotoServer:
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self._quiet_loggers()
        self._set_environment()
        # Execution mode is global moto config: it must be on before the first Step Functions call.
        self._post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._post("/moto-api/reset", {})  # backends are process-global: leave nothing for the next user
        finally:
            self._server.stop()
            self._restore_environment()
            # moto's loggers stay quiet: executions still winding down in their threads would otherwise dump
            # their whole parsed state after the test run's summary.
            for name, level in self._saved_levels.items():
                if not name.startswith("moto"):
                    logging.getLogger(name).setLevel(level)
            self.port = 0

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client bound to this server (does not depend on the process environment)."""
        return boto_client(service, region_name=self.region, endpoint_url=self.endpoint_url,
                           aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], **kwargs)

    def _set_environment(self) -> None:
        wanted: dict[str, str | None] = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "MOTO_PORT": str(self.port),
            **FAKE_CREDENTIALS,
            **dict.fromkeys(_CLEARED_VARIABLES),
        }
        for name, value in wanted.items():
            self._saved_env[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _restore_environment(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def _quiet_loggers(self) -> None:
        for name in _NOISY_LOGGERS:
            logger = logging.getLogger(name)
            self._saved_levels[name] = logger.level
            logger.setLevel(logging.CRITICAL if name.startswith("moto") else logging.WARNING)

    def _post(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}{path}", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
