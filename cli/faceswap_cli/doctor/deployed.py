"""What doctor reads once about a stack: its CloudFormation status, outputs and parameters, and clients for it.

The same for a deployed stack and the local one (moto's CloudFormation holds the local stack's outputs), except
the webhook URL: locally the stack's output is moto's fake API Gateway URL, so it comes from `.local-stack.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from faceswap.config import DEFAULT_BASE_URL
from faceswap_cli.stack import StackInfo, aws_client, stack_outputs


@dataclass(frozen=True)
class Deployed:
    stack: StackInfo
    status: str  # CREATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE...
    outputs: dict[str, str]  # by their FaceSwapStack names (infra/outputs.py)
    parameters: dict[str, str]
    session: boto3.Session | None = None  # None: the default credentials (or the local stack's fake ones)

    @classmethod
    def read(cls, stack: StackInfo, session: boto3.Session | None = None) -> Deployed:
        cfn = aws_client(stack, "cloudformation", session)
        description = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]
        parameters = {p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
                      for p in description.get("Parameters", [])}
        return cls(stack, str(description["StackStatus"]), stack_outputs(description), parameters, session)

    def client(self, service: str) -> Any:
        return aws_client(self.stack, service, self.session)

    @property
    def vendor_base_url(self) -> str:
        """The vendor origin the functions call (the output, else FaceSwapStack's parameter, else the default)."""
        return self.outputs.get("VendorApiUrl") or self.parameters.get("VendorBaseUrl") or DEFAULT_BASE_URL

    @property
    def webhook_url(self) -> str | None:
        return self.stack.webhook_url or self.outputs.get("WebhookUrl")
