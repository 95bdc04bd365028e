"""docs/architecture.svg is drawn from the template: every state of the state machine and every part of the
architecture appears, and the SVG is well-formed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from docs.architecture import read_template
from docs.diagram import Layout
from docs.drawing import to_svg
from tests.conftest import Synthesized


def _state_names(definition: dict[str, Any]) -> set[str]:
    names = set(definition["States"])
    for state in definition["States"].values():
        for branch in state.get("Branches", []):
            names |= _state_names(branch)
    return names


def test_the_diagram_shows_what_the_template_holds(synthesized: Synthesized) -> None:
    architecture = read_template(synthesized.template_path)
    svg = to_svg(Layout(architecture).draw())
    texts = " ".join(t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"))

    template = json.loads(synthesized.template_path.read_text())
    assert len(architecture.functions) == 8
    for state in _state_names(architecture.definition):
        assert state in texts
    for part in ("S3 media bucket", "λ Start job", "λ Webhook", "API Gateway", "POST /webhook", "EventBridge rule",
                 "λ Execution failed", "DynamoDB table: Jobs", "Secret: WebhookSecrets", "SNS alarm topic",
                 "S3 results/<job_id>/", "YouCam API (external)", f"({len(architecture.alarms)})", "λ Detect faces"):
        assert part in texts, part
    assert f"{len(template['Resources'])} resources" in texts
    assert "λ ?" not in texts  # every Task state was matched to its function
