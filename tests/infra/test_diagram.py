"""docs/architecture.svg is drawn from the template: every state of both state machines and every part of the
architecture appears, every Task state says what it calls, nothing is drawn over anything else, and the SVG is
well-formed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from itertools import pairwise

from docs.architecture import read_template
from docs.diagram import Layout
from docs.drawing import Box, Scene, _text_rows, to_svg
from tests.conftest import Synthesized

SVG = "{http://www.w3.org/2000/svg}"


def test_the_diagram_shows_what_the_template_holds(synthesized: Synthesized) -> None:
    architecture = read_template(synthesized.template_path)
    svg = to_svg(Layout(architecture).draw())
    texts = " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text"))  # parses: well-formed

    template = json.loads(synthesized.template_path.read_text())
    assert len(architecture.functions) == 9
    assert sorted(m.kind for m in architecture.machines) == ["EXPRESS", "STANDARD"]
    for machine in architecture.machines:
        assert f"Step Functions ({machine.kind.capitalize()}): {machine.name}" in texts
        for state in machine.all_state_names():
            assert state in texts, (machine.short, state)
    for part in ("S3 media bucket", "λ Start job", "λ Webhook", "API Gateway", "POST /webhook", "EventBridge rule",
                 "λ Execution failed", "DynamoDB table: Jobs", "Secret: WebhookSecrets", "SNS alarm topic",
                 "S3 results/<job_id>/", "YouCam API (external)", f"({len(architecture.alarms)})", "λ Detect faces",
                 "billed by duration", "billed per state transition", "starts it, passes the token",
                 "SendTaskSuccess (token)", "SendTaskFailure (token)", "λ Store token", "λ Check status",
                 "λ Finalize", "λ Record failure", "sfn:startExecution → Poller · waits for its token",
                 "sfn:sendTaskSuccess", "sfn:sendTaskFailure", "λ Publish job events", "EventBridge bus: default",
                 "stream: JOB#, REJECTED# changes"):
        assert part in texts, part
    assert f"{len(template['Resources'])} resources" in texts
    assert "λ ?" not in texts  # every Lambda task was matched to its function, every other task to its service


def test_nothing_is_drawn_over_anything_else(synthesized: Synthesized) -> None:
    scene = Layout(read_template(synthesized.template_path)).draw()
    leaves = [b for b in scene.boxes if not b.title_top]  # title_top: a container (a state machine)
    for i, a in enumerate(scene.boxes):
        assert a.x >= 0 and a.y >= 0 and a.x + a.w <= scene.width and a.y + a.h <= scene.height, a.title
        for b in scene.boxes[i + 1:]:
            assert _inside(a, b) or _inside(b, a) or not _overlap(a, b), (a.title, b.title)
    for b in leaves:
        assert sum(size * 1.3 for _, size, _ in _text_rows(b)) <= b.h, b.title
    for arrow in _segments(scene):
        assert not [b.title for b in leaves if _crosses(arrow, b)], arrow


def _inside(a: Box, b: Box) -> bool:
    return b.x <= a.x and b.y <= a.y and a.x + a.w <= b.x + b.w and a.y + a.h <= b.y + b.h


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _segments(scene: Scene) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return [(p, q) for arrow in scene.arrows for p, q in pairwise(arrow.points)]


def _crosses(segment: tuple[tuple[float, float], tuple[float, float]], b: Box) -> bool:
    """Whether a segment runs through the inside of a box (ending on its edge is fine)."""
    (x1, y1), (x2, y2) = segment
    points = [(x1 + (x2 - x1) * i / 100, y1 + (y2 - y1) * i / 100) for i in range(101)]
    return any(b.x + 1 < x < b.x + b.w - 1 and b.y + 1 < y < b.y + b.h - 1 for x, y in points)
