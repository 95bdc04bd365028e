"""`make diagram`: docs/architecture.svg drawn from the synthesized template (cdk.out/FaceSwap.template.json).

Boxes and states come from the template (functions by handler, the state machine's own definition, S3
notifications, the webhook route, tables and secrets with the functions allowed to use them, alarms); the
layout is fixed here. `--png` also writes a raster preview (Pillow) for a quick look.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from docs.architecture import Architecture, read_template
from docs.drawing import Arrow, Box, Label, Scene, to_png, to_svg

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"start_job": "Start job", "check_status": "Check status", "await_webhook": "Await webhook",
         "finalize": "Finalize", "record_failure": "Record failure", "execution_failed": "Execution failed",
         "webhook": "Webhook", "detect_faces": "Detect faces"}
AWS, LAMBDA, DATA, EXTERNAL = "#fff4e5", "#fdebd3", "#e8f1fb", "#f1ecf9"
STATE_FILL = {"Task": "#fdebd3", "Wait": "#fff9e6", "Choice": "#f4f4f4", "Fail": "#fde2e2", "Succeed": "#e3f4e3",
              "Pass": "#f4f4f4"}
COL_W, STATE_H, STEP, GAP = 195, 38, 50, 24


def name(handler: str | None) -> str:
    return NAMES.get(handler or "", (handler or "?").replace("_", " ").capitalize())


def chain(states: dict[str, Any], start: str, follow_catch: bool) -> list[str]:
    """States reachable from `start` by Next/Choices/Default (and Catch, inside a branch), depth first."""
    order: list[str] = []
    todo = [start]
    while todo:
        current = todo.pop(0)
        if current in order or current not in states:
            continue
        order.append(current)
        todo = [*_successors(states[current], follow_catch), *todo]
    return order


def _successors(state: dict[str, Any], follow_catch: bool) -> list[str]:
    found = [c["Next"] for c in state.get("Choices", [])] + [state[k] for k in ("Next", "Default") if k in state]
    return found + ([c["Next"] for c in state.get("Catch", [])] if follow_catch else [])


def _is_callback_branch(branch: dict[str, Any]) -> bool:
    return "waitForTaskToken" in str(branch)


def state_box(arch: Architecture, state_name: str, state: dict[str, Any], x: float, y: float) -> Box:
    kind = state["Type"]
    lines: list[str] = []
    if kind == "Task":
        token = " (task token)" if "waitForTaskToken" in str(state.get("Resource", "")) else ""
        target = state.get("Parameters", {}).get("FunctionName") or state.get("Resource", "")
        lines = [f"λ {name(arch.handler_of(str(target)))}{token}"]
    elif kind == "Wait":
        lines = [f"wait {state.get('SecondsPath', state.get('Seconds', ''))}"]
    elif kind == "Fail":
        lines = [f"error {state.get('Error', state.get('ErrorPath', ''))}"]
    return Box(x, y, COL_W, STATE_H, state_name, lines, fill=STATE_FILL.get(kind, "#ffffff"),
               dashed=kind == "Choice", radius=14 if kind in ("Succeed", "Fail") else 4, title_size=11.5, size=10)


class Layout:
    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.scene = Scene(1600, 960)
        self.states: dict[str, Box] = {}

    def arrow(self, points: list[tuple[float, float]], label: str = "", **kwargs: Any) -> None:
        self.scene.arrows.append(Arrow(points, label, **kwargs))

    def column(self, states: dict[str, Any], names: list[str], x: float, y: float) -> float:
        """Stack the states top-down with arrows for Next/Choice edges; loops drawn on the left. Returns bottom."""
        for i, state_name in enumerate(names):
            box = state_box(self.arch, state_name, states[state_name], x, y + i * STEP)
            self.scene.boxes.append(box)
            self.states[state_name] = box
        for state_name in names:
            for target in _successors(states[state_name], follow_catch=False):
                self._edge(self.states[state_name], self.states.get(target), names, state_name, target)
            for catch in states[state_name].get("Catch", []):
                self._edge(self.states[state_name], self.states.get(catch["Next"]), names, state_name, catch["Next"],
                           dashed=True)
        return y + len(names) * STEP - (STEP - STATE_H)

    def _edge(self, src: Box, dst: Box | None, names: list[str], a: str, b: str, dashed: bool = False,
              label: str = "") -> None:
        if dst is None or b not in names:
            return
        if names.index(b) == names.index(a) + 1:
            self.arrow([src.side("s"), dst.side("n")], label, dashed=dashed, label_dx=6, label_dy=4)
        elif names.index(b) < names.index(a):  # a loop back up: on the left, in the gap between columns
            self.arrow([src.side("w"), (src.x - GAP / 2, src.side("w")[1]), (dst.x - GAP / 2, dst.side("w")[1]),
                        dst.side("w")])
        elif dashed:  # a Catch that skips states: along the left edge
            self.arrow([src.side("w", 9), (src.x - 8, src.side("w", 9)[1]), (dst.x - 8, dst.side("w")[1]),
                        dst.side("w")], dashed=True)
        else:  # a Choice that skips states: along the right edge
            self.arrow([src.side("e"), (src.x + src.w + 8, src.side("e")[1]), (dst.x + dst.w + 8, dst.side("e")[1]),
                        dst.side("e")])

    def state_machine(self, x: float, y: float) -> Box:
        definition, a = self.arch.definition, self.arch
        top = definition["States"]
        race_name = definition["StartAt"]
        race = top[race_name]
        branches = sorted(race.get("Branches", []), key=lambda b: not _is_callback_branch(b))
        container = Box(x, y, 2 * COL_W + GAP + 60, 0, f"Step Functions (Standard): {a.state_machine_name}", fill=AWS,
                        title_top=True, title_size=13, stroke="#b35c00")
        race_box = Box(x + 15, y + 34, 2 * COL_W + GAP + 30, 0, f"{race_name} (Parallel)", fill="#fffaf2",
                       title_top=True, title_size=11.5, dashed=True)
        self.scene.boxes += [container, race_box]
        bottom = y
        for i, branch in enumerate(branches[:2]):
            bottom = max(bottom, self.column(branch["States"], chain(branch["States"], branch["StartAt"], True),
                                             x + 30 + i * (COL_W + GAP), y + 60))
        race_box.h = bottom - race_box.y + 10
        after = [chain(top, c["Next"], False) for c in race.get("Catch", [])]
        after.sort(key=lambda names: any(top[n]["Type"] == "Succeed" for n in names))  # success path right
        start = race_box.y + race_box.h + 22
        for i, names in enumerate(after[:2]):
            bottom = max(bottom, self.column(top, names, x + 30 + i * (COL_W + GAP), start))
        container.h = bottom - y + 28
        return container

    # --- around the state machine ---------------------------------------------------------------------------
    def draw(self) -> Scene:
        a, sc = self.arch, self.scene
        sm = self.state_machine(770, 100)
        user = sc.box(20, 150, 150, 70, "You", ["faceswap CLI, or any S3 client"], fill=EXTERNAL)
        bucket = sc.box(215, 130, 200, 120, "S3 media bucket", ["videos/  faces/", "jobs/<name>.json",
                                                                "private · SSE · TLS only · expiry"], fill=DATA)
        prefixes = ", ".join(sorted({p for p, h in a.notifications if h == "start_job"}))
        start = sc.box(490, 130, 210, 80, "λ Start job", [f"S3 events: {prefixes}", "check headers · claim once",
                                                          "upload inputs · create task"], fill=LAMBDA)
        dlq = sc.box(490, 250, 210, 52, "SQS dead letters", ["events failed after 2 retries"])
        self._face_detector(start)
        vendor = sc.box(215, 370, 200, 80, "YouCam API (external)", ["files · tasks · results",
                                                                     a.vendor_url.removeprefix("https://")],
                        fill=EXTERNAL, dashed=True)
        api = sc.box(490, 356, 210, 60, "API Gateway", [a.webhook_route, f"validated · {a.throttle}"], fill=AWS)
        hook = sc.box(490, 450, 210, 60, "λ Webhook", ["verify signature", "record once · end the wait"], fill=LAMBDA)
        finalize = self.states.get("Finalize", sm)
        results = sc.box(1310, finalize.y - 30, 235, 100, "S3 results/<job_id>/", [
            "output.mp4 · status.json", "error.json: message, what_to_fix", "(same bucket)"], fill=DATA)
        wait_hook = next((b for n, b in self.states.items() if "task token" in " ".join(b.lines)), sm)
        self.arrow([user.side("e"), bucket.side("w", -5)], "(1)", label_dx=-8)
        self.arrow([(bucket.x + bucket.w, 160), (start.x, 160)], "(2)", label_dx=-8)
        self.arrow([start.side("w", 25), (452, start.side("w", 25)[1]), (452, 395), (415, 395)], "(3)",
                   label_at=1, label_dx=-24)
        self.arrow([start.side("e", -30), (sm.x, start.side("e", -30)[1])], "(4)", label_dx=-8)
        self.arrow([start.side("s"), dlq.side("n")], "", dashed=True)
        self.arrow([(415, 430), (468, 430), (468, api.side("w")[1]), api.side("w")], "(5)", label_dx=-30,
                   label_dy=-6)
        self.arrow([api.side("s"), hook.side("n")])
        self.arrow([hook.side("e"), (735, hook.side("e")[1]), (735, wait_hook.side("w")[1]), wait_hook.side("w")],
                   "(6)", label_at=1, label_dx=-26, label_dy=60)
        self.arrow([(sm.x, sm.y + sm.h - 40), (315, sm.y + sm.h - 40), vendor.side("s")],
                   "poll GET task, download the result (Check status, Finalize)", dashed=True, label_dx=-150,
                   label_dy=-5)
        self.arrow([finalize.side("e"), (results.x, finalize.side("e")[1])], "(7)", label_dx=-10)
        self._failure_paths(sm, results)
        self._stores_and_alarms(sm.y + sm.h + 160)
        self.arrow([results.side("e"), (1588, results.side("e")[1]), (1588, 84), (95, 84), user.side("n", 0)],
                   "(8) download output.mp4", label_at=2, label_dx=-560, label_dy=-5, dashed=True)
        self._legend(1290, 112)
        sc.labels += [Label(20, 34, "Face-swap pipeline: architecture", 18, bold=True),
                      Label(20, 56, f"Generated by docs/diagram.py from cdk.out/FaceSwap.template.json "
                                    f"({a.resource_count} resources). (n) = the steps of one job.", 11)]
        return sc

    def _face_detector(self, start: Box) -> None:
        """Only when deployed (faceswap:face_precheck): called by Start job before anything is uploaded."""
        if "detect_faces" not in self.arch.functions.values():
            return
        detector = self.scene.box(215, 272, 200, 62, "λ Detect faces", ["face pre-check · OpenCV Haar",
                                                                        "sampled frames · the photo"], fill=LAMBDA)
        leave = start.side("w", 10)
        self.arrow([leave, (438, leave[1]), (438, detector.side("e")[1]), detector.side("e")])  # part of (3)

    def _failure_paths(self, sm: Box, results: Box) -> None:
        a, sc = self.arch, self.scene
        record = self.states.get("Record failure")
        if record:
            gap_x = record.x + record.w + GAP / 2
            self.arrow([record.side("e"), (gap_x, record.side("e")[1]), (gap_x, sm.y + sm.h - 12),
                        (results.x + 120, sm.y + sm.h - 12), results.side("s", 3)], "error.json", label_at=2,
                       label_dx=110, label_dy=-4)
        rule = sc.box(770, sm.y + sm.h + 45, 220, 62, "EventBridge rule", [
            "execution " + " · ".join(a.rule_statuses)], fill=AWS)
        failed = sc.box(1040, rule.y, 200, 62, f"λ {name(a.rule_target)}", ["timeouts, aborts: error.json"],
                        fill=LAMBDA)
        self.arrow([(rule.x + 110, sm.y + sm.h), rule.side("n")], "status change", dashed=True, label_dy=4)
        self.arrow([rule.side("e"), failed.side("w")])
        self.arrow([failed.side("e"), (results.x + 200, failed.side("e")[1]), results.side("s", 82)], "error.json",
                   label_dx=-20)

    def _stores_and_alarms(self, y: float) -> None:
        a, sc = self.arch, self.scene
        what = {"Jobs": "JOB#<job_id> · TASK#<task_id>"}
        for i, store in enumerate(a.stores):
            sc.box(20 + i * 215, y, 200, 110, f"{store.kind}: {store.name}",
                   [what.get(store.name, ""), "used by " + ", ".join(name(u) for u in store.used_by)],
                   fill=DATA if store.kind.startswith("Dynamo") else "#fbeaf0")
        errors = [n for n in a.alarms if n.endswith("Errors")]
        others = [n for n in a.alarms if n not in errors]
        alarms = sc.box(20 + len(a.stores) * 215 + 20, y, 290, 100, f"CloudWatch alarms ({len(a.alarms)})",
                        [", ".join(others), f"Lambda errors of {len(errors)} functions"], fill="#f3f3f3")
        topic = sc.box(alarms.x + alarms.w + 60, y + 20, 200, 60, "SNS alarm topic", ["e-mail: faceswap:alarm_email"],
                       fill=AWS)
        self.arrow([alarms.side("e"), topic.side("w")])
        sc.labels.append(Label(20, y - 12, f"State and configuration ({a.buckets} buckets incl. access logs; "
                                           f"queues: {', '.join(a.queues)})", 11, bold=True))

    def _legend(self, x: float, y: float) -> None:
        steps = ["(1) upload video, face, then jobs/<name>.json", "(2) the S3 event starts Start job (async)",
                 "(3) check headers (and faces), upload inputs, create task",
                 "(4) StartExecution, named after the job id",
                 "(5) the vendor posts a signed webhook", "(6) SendTaskSuccess ends the wait early;",
                 "     polling is the fallback", "(7) result streamed to results/, status.json",
                 "(8) faceswap wait / result downloads it"]
        self.scene.labels.append(Label(x, y, "One job", 12, bold=True))
        self.scene.labels += [Label(x, y + 18 + i * 16, step, 10.5) for i, step in enumerate(steps)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", type=Path, default=ROOT / "cdk.out" / "FaceSwap.template.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "architecture.svg")
    parser.add_argument("--png", type=Path, help="also write a PNG preview here")
    args = parser.parse_args(argv)
    if not args.template.exists():
        parser.error(f"{args.template} does not exist: run `make synth` first")
    scene = Layout(read_template(args.template)).draw()
    args.out.write_text(to_svg(scene))
    print(f"wrote {args.out}")
    if args.png:
        print(f"wrote {to_png(scene, args.png)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
