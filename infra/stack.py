"""The deployable stack: the construct plus a deploy-time override of the vendor URL and the outputs
(infra/outputs.py)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.config import PipelineConfig
from infra.nag import suppress_reviewed_findings
from infra.outputs import add_outputs
from infra.pipeline import FaceSwapPipeline


class FaceSwapStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, config: PipelineConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # A parameter (default from context) so the same template can point at the local emulator.
        vendor_url = cdk.CfnParameter(self, "VendorBaseUrl", type="String", default=config.vendor_base_url,
                                      description="YouCam API origin")
        self.pipeline = FaceSwapPipeline(self, "Pipeline", config, vendor_base_url=vendor_url.value_as_string)
        p = self.pipeline
        add_outputs(self, p, vendor_base_url=vendor_url.value_as_string)
        suppress_reviewed_findings(self, config=p.config, storage=p.storage, ingest=p.ingest, workflow=p.workflow,
                                   webhooks=p.webhook_ingress, job_events=p.job_events)
