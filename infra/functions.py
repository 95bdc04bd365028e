"""The pipeline's Lambda functions: one handler module per function, all from the shared asset except the face
detector, which has its own (OpenCV)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import AssetHashType, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from faceswap.layout import Env
from infra.bundling import SHARED_ASSET, LambdaAsset, build_lambda_asset

# The local stack runs these exact bundles with the machine's CPython 3.11, so the runtime matches it.
RUNTIME = lambda_.Runtime.PYTHON_3_11


@dataclass(frozen=True)
class FunctionSpec:
    handler_module: str
    description: str
    timeout: Duration
    memory_mb: int = 256
    environment: dict[str, str] = field(default_factory=dict)
    asset: LambdaAsset = SHARED_ASSET


class FunctionFactory:
    """Builds functions with the same defaults: tracing, JSON logs with retention, Powertools settings. One factory
    serves the whole pipeline, so that every function of an asset shares one asset."""

    def __init__(self, common_env: dict[str, str], log_retention: logs.RetentionDays) -> None:
        self._common_env = common_env
        self._log_retention = log_retention
        self._codes: dict[LambdaAsset, lambda_.AssetCode] = {}

    def _code(self, asset: LambdaAsset) -> lambda_.AssetCode:
        """Built (or taken from the cache) on first use: an asset no function uses is never built."""
        if asset not in self._codes:
            asset_dir, asset_hash = build_lambda_asset(asset)
            self._codes[asset] = lambda_.Code.from_asset(
                str(asset_dir), asset_hash=asset_hash, asset_hash_type=AssetHashType.CUSTOM
            )
        return self._codes[asset]

    def create(self, scope: Construct, construct_id: str, spec: FunctionSpec) -> lambda_.Function:
        log_group = logs.LogGroup(
            scope, f"{construct_id}Logs", retention=self._log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        return lambda_.Function(
            scope, construct_id,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            code=self._code(spec.asset),
            handler=f"{spec.handler_module}.app.lambda_handler",
            description=spec.description,
            timeout=spec.timeout,
            memory_size=spec.memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment={
                **self._common_env,
                Env.POWERTOOLS_SERVICE_NAME: spec.handler_module,
                **spec.environment,
            },
        )


def grant_task_success(fn: lambda_.IFunction, job_arn: str) -> None:
    """The webhook and the token store only ever end a job's wait with SendTaskSuccess."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[job_arn]))
