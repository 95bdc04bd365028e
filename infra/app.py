"""CDK entry point (`cdk.json` runs `python -m infra.app`)."""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import PipelineConfig
from infra.stack import FaceSwapStack

STACK_NAME = "FaceSwap"


def build_app(outdir: str | None = None, context: dict[str, object] | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir, context=context)
    config = PipelineConfig.from_context(app.node)
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))
    FaceSwapStack(app, STACK_NAME, config=config, env=env,
                  description="Serverless video face swap: S3 -> Lambda -> Step Functions -> YouCam API")
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
