"""CDK entry point (`cdk.json` runs `python -m infra.app`; `make synth` runs it directly)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import PipelineConfig
from infra.stack import FaceSwapStack

STACK_NAME = "FaceSwap"
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def build_app(outdir: str | None = None, context: dict[str, object] | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir, context={**_cdk_json_context(), **(context or {})})
    config = PipelineConfig.from_context(app.node)
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))
    FaceSwapStack(app, STACK_NAME, config=config, env=env,
                  description="Serverless video face swap: S3 -> Lambda -> Step Functions -> YouCam API")
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


def _cdk_json_context() -> dict[str, object]:
    """The CDK CLI passes cdk.json's context itself (CDK_CONTEXT_JSON); a plain `python -m infra.app` reads it here."""
    if "CDK_CONTEXT_JSON" in os.environ or not CDK_JSON.exists():
        return {}
    return dict(json.loads(CDK_JSON.read_text()).get("context", {}))


if __name__ == "__main__":
    build_app().synth()
