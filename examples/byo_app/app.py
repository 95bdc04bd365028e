"""Bring your own CDK app: the whole face-swap pipeline as one construct in a stack of yours.

    .venv/bin/python -m examples.byo_app.app                      # synthesizes into cdk.out.byo/
    npx cdk deploy --app ".venv/bin/python -m examples.byo_app.app"
    faceswap --stack MyMediaApp doctor                            # the CLI finds the outputs by their suffix
    faceswap --stack MyMediaApp submit clip.mp4 me.jpg --wait
"""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import PipelineConfig
from infra.outputs import add_outputs
from infra.pipeline import FaceSwapPipeline


class MediaStack(cdk.Stack):
    """Your stack: your resources, plus the pipeline in a few lines."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = PipelineConfig(max_polls=360, results_retention_days=7)
        self.faceswap = FaceSwapPipeline(self, "FaceSwap", config)

        # Your backend may submit jobs (videos/, faces/, jobs/) and read the results, nothing else.
        backend = iam.Role(self, "BackendRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        bucket = self.faceswap.storage.bucket
        for prefix in (config.videos_prefix, config.faces_prefix, config.jobs_prefix):
            bucket.grant_put(backend, f"{prefix}*")
        bucket.grant_read(backend, f"{config.results_prefix}*")

        # Outputs ending in the names FaceSwapStack uses, so that `faceswap --stack MyMediaApp` (and doctor) work.
        add_outputs(self, self.faceswap, prefix="FaceSwap")


def build(app: cdk.App) -> MediaStack:
    return MediaStack(app, "MyMediaApp", description="My media app, with the face-swap pipeline inside")


if __name__ == "__main__":
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR", "cdk.out.byo"))
    build(app)
    app.synth()
