"""`LocalStack`: the whole local AWS in one context manager.

    with LocalStack(Path("cdk.out"), "FaceSwap", time_scale=0.02) as aws:
        aws.client("s3").put_object(Bucket=aws.outputs["BucketName"], Key="jobs/a.json", Body=b"{}")
        requests.post(aws.api.url_for("/webhook"), ...)
        aws.runtime.log_lines()

Starts moto's server; checks that it is the pinned moto with every patched internal in place (`moto_pin`); installs
the CloudFormation shims, EventBridge delivery, the Step Functions time warp, an AWS-like StopExecution, atomic
DynamoDB item writes, SQS on the stack's clock, presigned S3 URLs checked as S3 checks them, and the Lambda runtime;
deploys the synthesized stack, polls its event source mappings as Lambda does (`event_sources`) and opens the API
Gateway front. When `LOCAL_AWS_CALL_LOG` names a file, every AWS call of the stack's functions and state
machines is recorded there (call_log.py). Everything is undone on exit (workers killed, moto reset, patches
removed, environment restored).

`time_scale` is the stack's clock: Step Functions' Wait states, timeouts and retries (time_warp) last
`declared seconds * time_scale`; SQS's DelaySeconds, visibility timeouts and long polls (sqs_queues) run on
`queue_time_scale` (default: the same); Lambda functions, their timeouts and presigned URLs' lives run in real time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from local.aws import (
    cfn_shims,
    dynamodb_atomic,
    event_sources,
    eventbridge,
    moto_pin,
    moto_speed,
    s3_presign,
    sfn_integrations,
    sqs_queues,
    stop_execution,
    time_warp,
)
from local.aws.api_front import ApiFront
from local.aws.call_log import CallLog
from local.aws.deploy import DeployedStack, deploy_stack
from local.aws.event_sources import EventSources
from local.aws.lambda_runtime import LambdaRuntime
from local.aws.server import MotoServer

# The shim modules LocalStack installs (through `moto_pin.patched`, which checks moto first), in this order.
SHIMS = (time_warp, cfn_shims, eventbridge, stop_execution, dynamodb_atomic, sfn_integrations, sqs_queues,
         event_sources, s3_presign, moto_speed)


class LocalStack:
    def __init__(self, cdk_out: Path, stack_name: str, *, time_scale: float = 1.0,
                 parameters: Mapping[str, str] | None = None, async_invocations: bool = False,
                 retry_async_errors: bool = False, async_retry_delays: Sequence[float] = (0.5, 1.0),
                 max_workers_per_function: int = 4, rest_api: str | None = None, moto_port: int = 0,
                 api_port: int = 0, queue_time_scale: float | None = None) -> None:
        self.cdk_out = Path(cdk_out)
        self.stack_name = stack_name
        self.time_scale = time_scale
        self.queue_time_scale = time_scale if queue_time_scale is None else queue_time_scale
        self._parameters = dict(parameters or {})
        self._runtime_options: dict[str, Any] = {
            "async_invocations": async_invocations, "retry_async_errors": retry_async_errors,
            "async_retry_delays": async_retry_delays, "max_workers_per_function": max_workers_per_function}
        self._rest_api = rest_api
        self._ports = {"moto": moto_port, "api": api_port}  # 0: a free port (tests); fixed for `make local-up`
        self._exit = ExitStack()
        self._moto: MotoServer | None = None
        self._runtime: LambdaRuntime | None = None
        self._deployed: DeployedStack | None = None
        self._api: ApiFront | None = None
        self._event_sources: EventSources | None = None

    def __enter__(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._exit.close()
        self._moto = self._runtime = self._deployed = self._api = self._event_sources = None

    def _start(self) -> None:
        self._moto = self._exit.enter_context(MotoServer(port=self._ports["moto"]))
        self._exit.enter_context(moto_pin.patched(*SHIMS))
        time_warp.set_time_scale(self.time_scale)
        sqs_queues.set_time_scale(self.queue_time_scale)
        template_path = self.cdk_out / f"{self.stack_name}.template.json"
        call_log = CallLog.from_environment(template_path)  # when the test session asks for the IAM proof
        if call_log is not None:
            self._exit.callback(call_log.install().close)
        self._runtime = LambdaRuntime(self._moto.endpoint_url, **self._runtime_options,
                                      harness_environment=call_log.worker_environment() if call_log else None)
        self._runtime.install()
        self._exit.callback(self._runtime.shutdown)
        self._deployed = deploy_stack(self.cdk_out, self.stack_name, endpoint_url=self._moto.endpoint_url,
                                      parameters=self._parameters)
        self._event_sources = EventSources(self._runtime, self._moto.endpoint_url).start()
        self._exit.callback(self._event_sources.stop)
        if any(t == "AWS::ApiGateway::RestApi" for t in self._deployed.resource_types.values()):
            self._api = self._exit.enter_context(
                ApiFront(self._deployed, self._moto.endpoint_url, rest_api=self._rest_api, port=self._ports["api"]))

    # --- what tests and the demo use ----------------------------------------------------------------------
    @property
    def moto(self) -> MotoServer:
        return _running(self._moto)

    @property
    def runtime(self) -> LambdaRuntime:
        return _running(self._runtime)

    @property
    def deployed(self) -> DeployedStack:
        return _running(self._deployed)

    @property
    def api(self) -> ApiFront:
        return _running(self._api)

    @property
    def event_sources(self) -> EventSources:
        """The SQS and DynamoDB-stream pollers: `wait_idle()`, `stats(function_name=...)`."""
        return _running(self._event_sources)

    @property
    def outputs(self) -> dict[str, str]:
        return self.deployed.outputs

    @property
    def endpoint_url(self) -> str:
        return self.moto.endpoint_url

    @property
    def api_url(self) -> str:
        return self.api.url

    def client(self, service: str, **kwargs: Any) -> Any:
        return self.moto.client(service, **kwargs)

    def function_name(self, logical_id_prefix: str) -> str:
        return self.deployed.function_name(logical_id_prefix)


T = TypeVar("T")


def _running(value: T | None) -> T:
    if value is None:
        raise RuntimeError("LocalStack is not running (use it as a context manager)")
    return value
