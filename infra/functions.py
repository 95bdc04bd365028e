"""The pipeline's Lambda functions: one handler module per function, all from the shared asset except the face
detector, which has its own (OpenCV). They run python3.13 on the configured architecture (faceswap:architecture);
a local synth (context faceswap:local_assets = true: the tests, the demo, the benchmarks) bundles the same code
with wheels for the local stack's interpreter instead (infra.bundling.local_target), for its workers to run."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import AssetHashType, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from faceswap.layout import Env
from infra.bundling import SHARED_ASSET, BuildTarget, LambdaAsset, build_lambda_asset, local_target, runtime_target

# Amazon Linux 2023 (glibc 2.34); infra.bundling.RUNTIME_PYTHON builds the wheels for the same version.
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
LOCAL_ASSETS_CONTEXT = "faceswap:local_assets"  # not a deployment setting: set by the local synths only


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

    def __init__(self, scope: Construct, common_env: dict[str, str], log_retention: logs.RetentionDays,
                 architecture: str) -> None:
        """`scope`: where the build target is read from (the local synths' context asks for host assets)."""
        self._common_env = common_env
        self._log_retention = log_retention
        self._codes: dict[LambdaAsset, lambda_.AssetCode] = {}
        self.architecture = architecture
        self._target = _build_target(scope, self.architecture)

    def _code(self, asset: LambdaAsset) -> lambda_.AssetCode:
        """Built (or taken from the cache) on first use: an asset no function uses is never built."""
        if asset not in self._codes:
            asset_dir, asset_hash = build_lambda_asset(asset, self._target)
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
            architecture=ARCHITECTURES[self.architecture],
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


def _build_target(scope: Construct, architecture: str) -> BuildTarget:
    local = scope.node.try_get_context(LOCAL_ASSETS_CONTEXT)
    return local_target() if str(local).lower() == "true" else runtime_target(architecture)
