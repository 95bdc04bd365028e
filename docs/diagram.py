"""`make diagram`: docs/architecture.svg drawn from the synthesized template (cdk.out/FaceSwap.template.json).

Boxes and states come from the template (functions by handler, both state machines' own definitions, S3
notifications, the webhook route, tables and secrets with the functions allowed to use them, alarms); the
layout is fixed here, down to the cell of each state (JOB_CELLS, POLLER_CELLS). A state that has no cell (new in
infra/workflow.py) is still drawn, in an extra column, and `make diagram` names it: give it a cell. `--png` also
writes a raster preview (Pillow) for a quick look.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docs.architecture import Architecture, Machine, integration, read_template
from docs.drawing import Arrow, Box, Label, Scene, to_png, to_svg

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"start_job": "Start job", "check_status": "Check status", "store_token": "Store token",
         "finalize": "Finalize", "record_failure": "Record failure", "execution_failed": "Execution failed",
         "webhook": "Webhook", "detect_faces": "Detect faces", "publish_job_events": "Publish job events"}
AWS, LAMBDA, DATA, EXTERNAL = "#fff4e5", "#fdebd3", "#e8f1fb", "#f1ecf9"
STATE_FILL = {"Task": "#fdebd3", "Wait": "#fff9e6", "Choice": "#f4f4f4", "Fail": "#fde2e2", "Succeed": "#e3f4e3",
              "Pass": "#f4f4f4"}
COL_W, STATE_H, STEP, GAP = 205, 38, 50, 24
ROW_H = 130  # the row of stores, alarms and the job events' publisher
PAD, HEADER, FOOTER = 30, 50, 28  # inside a state machine's box: sides, title, below the last row
MACHINE_X, RIGHT_X = 780, 1320  # the state machines; results and the failure rule to their right
LANE_IN, LANE_OUT = 738, 758  # left of the machines: task tokens handed back to the job, and the poller's start
Point = tuple[float, float]

# Where each state sits: (column, row), or (column, row, columns spanned). Catches and choice branches are routed
# from these cells (see Grid.route), so a cell change may need a look at the picture.
JOB_CELLS: dict[str, tuple[int, ...]] = {
    "Wait for the vendor task": (0, 0, 2), "Record failure": (0, 1), "Job failed": (0, 2),
    "Finalize": (1, 1)}
POLLER_CELLS: dict[str, tuple[int, ...]] = {
    "Store token for the webhook": (0, 0), "Webhook already in?": (0, 1), "Ended by the webhook": (1, 1),
    "Wait polling_interval": (0, 2), "Job still waiting?": (0, 3), "Job no longer waiting": (1, 3),
    "Check task status": (0, 4), "Task finished?": (0, 5),
    "Signal the job": (0, 6), "Ended by polling": (0, 7), "The webhook was first": (0, 8),
    "Hand over to a fresh poller": (1, 6), "Handed over": (1, 7), "Vendor task failed": (1, 8),
    "Poll limit reached": (1, 9), "Step Functions error?": (1, 10), "Name it PollerFailed": (1, 11),
    "Fail the job": (1, 12), "Job told of the failure": (1, 13), "Job already ended": (0, 13)}
SERVICES = {"states": "sfn"}  # the optimized Step Functions integration, named like its SDK one
PATTERNS = {"waitForTaskToken": "waits for its token", "sync": "waits for the end"}


def name(handler: str | None) -> str:
    return NAMES.get(handler or "", (handler or "?").replace("_", " ").capitalize())


def task_handler(arch: Architecture, state: dict[str, Any]) -> str | None:
    """The handler a Task state invokes (by its ARN, or lambda:invoke with FunctionName); None if not a Lambda."""
    found, params = integration(state), state.get("Parameters", {})
    if found and found["service"] != "lambda":
        return None
    return arch.handler_of(str(params.get("FunctionName") or state.get("Resource", ""))) or "?"


def task_line(arch: Architecture, state: dict[str, Any]) -> str:
    """What a Task state calls: "λ <function>", or its service integration ("sfn:sendTaskSuccess", ...)."""
    if handler := task_handler(arch, state):
        return f"λ {name(handler)}"
    found, params = integration(state), state.get("Parameters", {})
    line = f"{SERVICES.get(found['service'], found['service'])}:{found['action']}"
    if (target := arch.machine_of(str(params.get("StateMachineArn", "")))) is not None:
        line += f" → {target.short}"
    if found["pattern"]:
        line += f" · {PATTERNS.get(found['pattern'], found['pattern'])}"
    if "HeartbeatSeconds" in state:
        line += f" · heartbeat {state['HeartbeatSeconds']} s"
    return line


def state_lines(arch: Architecture, state: dict[str, Any]) -> list[str]:
    kind = state["Type"]
    if kind == "Task":
        return [task_line(arch, state)]
    if kind == "Wait":
        return [f"wait {state.get('SecondsPath', state.get('Seconds', ''))}"]
    if kind == "Fail":
        return [f"error {state.get('Error', state.get('ErrorPath', ''))}"]
    if kind == "Pass" and isinstance(state.get("Result"), dict) and "Error" in state["Result"]:
        return [f"sets error {state['Result']['Error']}"]
    return []


def successors(state: dict[str, Any]) -> list[tuple[str, bool]]:
    """(target, is a Catch) for every arrow out of a state, each target once."""
    found = [(c["Next"], False) for c in state.get("Choices", [])]
    found += [(state[k], False) for k in ("Next", "Default") if k in state]
    found += [(c["Next"], True) for c in state.get("Catch", [])]
    return list(dict.fromkeys(found))


def cells_of(machine: Machine, layout: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, int, int]]:
    """(column, row, span) of every state; those the layout does not place go into an extra column."""
    cells = {n: (c[0], c[1], c[2] if len(c) > 2 else 1) for n, c in layout.items() if n in machine.states}
    extra = max((col + span for col, _, span in cells.values()), default=0)
    unplaced = [n for n in machine.states if n not in cells]
    if unplaced:
        print(f"docs/diagram.py: no cell for {unplaced} of {machine.short}: drawn in an extra column",
              file=sys.stderr)
    return cells | {n: (extra, row, 1) for row, n in enumerate(unplaced)}


@dataclass
class Grid:
    """One state machine drawn as a grid of states inside its box."""

    machine: Machine
    box: Box
    cells: dict[str, tuple[int, int, int]]
    states: dict[str, Box] = field(default_factory=dict)

    @property
    def columns(self) -> int:
        return _columns(self.cells)

    def column_x(self, col: int) -> float:
        return self.box.x + PAD + col * (COL_W + GAP)

    def free(self, col: int, row: int) -> bool:
        return not any(r == row and c <= col < c + span for c, r, span in self.cells.values())

    def with_handler(self, arch: Architecture, handler: str) -> Box | None:
        return next((self.states[n] for n, s in self.machine.states.items()
                     if s["Type"] == "Task" and task_handler(arch, s) == handler), None)

    def calling(self, action: str) -> list[Box]:
        """The Task states of a service integration with this action (sendTaskSuccess, ...)."""
        return [self.states[n] for n, s in self.machine.states.items() if integration(s).get("action") == action]

    def route(self, a: str, b: str, catch: bool) -> list[Point]:
        """Next and Choice arrows solid, Catch arrows (dashed) along the left edge or the outer lane."""
        (ca, ra, _), (cb, rb, _) = self.cells[a], self.cells[b]
        src, dst = self.states[a], self.states[b]
        in_column = src.x <= dst.x + dst.w / 2 <= src.x + src.w
        if rb == ra + 1 and in_column:  # straight down (also out of a state spanning columns)
            return [(dst.x + dst.w / 2, src.y + src.h), dst.side("n")]
        if rb == ra:  # side by side
            return [src.side("e"), dst.side("w")] if cb > ca else [src.side("w"), dst.side("e")]
        if in_column:
            return _same_column(src, dst, catch, up=rb < ra)
        if rb > ra and self._clear(ca, cb, ra, rb):  # an elbow into the top of a state further down
            start = src.side("e" if cb > ca else "w", 6)
            return [start, (dst.x + dst.w / 2, start[1]), dst.side("n")]
        lane = self.column_x(self.columns) - GAP + (20 if catch else 8)  # right of the last column
        start = src.side("e", 0 if catch else -6)
        return [start, (lane, start[1]), (lane, dst.side("e")[1]), dst.side("e")]

    def _clear(self, ca: int, cb: int, ra: int, rb: int) -> bool:
        step = 1 if cb > ca else -1
        across = [(c, ra) for c in range(ca + step, cb + step, step)]
        return all(self.free(c, r) for c, r in across + [(cb, r) for r in range(ra + 1, rb)])


def _columns(cells: dict[str, tuple[int, int, int]]) -> int:
    return max(col + span for col, _, span in cells.values())


def _same_column(src: Box, dst: Box, catch: bool, up: bool) -> list[Point]:
    if up:  # a loop back up: in the gap on the left
        x = src.x - GAP / 2
        return [src.side("w"), (x, src.side("w")[1]), (x, dst.side("w")[1]), dst.side("w")]
    if catch:  # a Catch that skips states: along the left edge
        start = src.side("w", 9)
        return [start, (src.x - 8, start[1]), (src.x - 8, dst.side("w")[1]), dst.side("w")]
    # a Choice that skips states: along the right edge
    return [src.side("e"), (src.x + src.w + 8, src.side("e")[1]), (dst.x + dst.w + 8, dst.side("e")[1]),
            dst.side("e")]


def machine_note(machine: Machine) -> str:
    if machine.kind == "EXPRESS":
        timeout = machine.definition.get("TimeoutSeconds", 300)  # Express executions last 5 minutes at most
        return f"billed by duration, not per state · ≤ {timeout} s an execution"
    return "billed per state transition · exactly once · history in the console"


class Layout:
    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.scene = Scene(1600, 1300)

    def arrow(self, points: list[Point], label: str = "", **kwargs: Any) -> None:
        self.scene.arrows.append(Arrow(points, label, **kwargs))

    def machine(self, machine: Machine, layout: dict[str, tuple[int, ...]], x: float, y: float) -> Grid:
        cells = cells_of(machine, layout)
        columns = _columns(cells)
        rows = max(row for _, row, _ in cells.values()) + 1
        width = 2 * PAD + columns * COL_W + (columns - 1) * GAP
        height = HEADER + rows * STEP - (STEP - STATE_H) + FOOTER
        box = Box(x, y, width, height, f"Step Functions ({machine.kind.capitalize()}): {machine.name}",
                  [machine_note(machine)], fill=AWS, title_top=True, title_size=13, size=10.5, stroke="#b35c00")
        grid = Grid(machine, box, cells)
        self.scene.boxes.append(box)
        for state_name, (col, row, span) in cells.items():
            state = machine.states[state_name]
            kind = state["Type"]
            grid.states[state_name] = self.scene.box(
                grid.column_x(col), y + HEADER + row * STEP, span * COL_W + (span - 1) * GAP, STATE_H, state_name,
                state_lines(self.arch, state), fill=STATE_FILL.get(kind, "#ffffff"), dashed=kind == "Choice",
                radius=14 if kind in ("Succeed", "Fail") else 4, title_size=11.5, size=10)
        for state_name, state in machine.states.items():
            for target, catch in successors(state):
                if target in grid.states:
                    self.arrow(grid.route(state_name, target, catch), dashed=catch)
        return grid

    # --- around the state machines --------------------------------------------------------------------------
    def draw(self) -> Scene:
        a, sc = self.arch, self.scene
        job = self.machine(a.job, JOB_CELLS, MACHINE_X, 100)
        poller = self.machine(a.poller, POLLER_CELLS, MACHINE_X, job.box.y + job.box.h + 52) if a.poller else None
        lowest = poller or job
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
        hook = sc.box(490, 450, 210, 60, "λ Webhook", ["verify signature · record once",
                                                       "SendTaskSuccess (token)"], fill=LAMBDA)
        finalize = job.with_handler(a, "finalize") or job.box
        results = sc.box(RIGHT_X, finalize.y - 30, 235, 100, "S3 results/<job_id>/", [
            "output.mp4 · status.json", "error.json: message, what_to_fix", "(same bucket)"], fill=DATA)
        self.arrow([user.side("e"), bucket.side("w", -5)], "(1)", label_dx=-8)
        self.arrow([(bucket.x + bucket.w, 160), (start.x, 160)], "(2)", label_dx=-8)
        self.arrow([start.side("w", 25), (452, start.side("w", 25)[1]), (452, 395), (415, 395)], "(3)",
                   label_at=1, label_dx=-24)
        self.arrow([start.side("e", -30), (job.box.x, start.side("e", -30)[1])], "(4)", label_dx=-8)
        self.arrow([start.side("s"), dlq.side("n")], "", dashed=True)
        self.arrow([(415, 430), (468, 430), (468, api.side("w")[1]), api.side("w")], "(6)", label_dx=-24,
                   label_dy=-6)
        self.arrow([api.side("s"), hook.side("n")])
        self._task_token(job, poller, hook)
        bottom = lowest.box.y + lowest.box.h
        self.arrow([(lowest.box.x, bottom - 24), (vendor.side("s", 15)[0], bottom - 24), vendor.side("s", 15)],
                   "poll GET task (Check status) · download the result (Finalize)", dashed=True, label_dx=-205,
                   label_dy=-5)
        self.arrow([finalize.side("e"), (results.x, finalize.side("e")[1])], "(8)", label_dx=-4)
        self._failure_paths(job, results)
        self._stores_and_alarms(bottom + 80)
        self.arrow([results.side("n", 60), (results.side("n", 60)[0], 84), (95, 84), user.side("n", 0)],
                   "(9) download output.mp4", label_at=1, label_dx=-560, label_dy=-5, dashed=True)
        self._legend(335, 572)
        sc.labels += [Label(20, 34, "Face-swap pipeline: architecture", 18, bold=True),
                      Label(20, 56, f"Generated by docs/diagram.py from cdk.out/FaceSwap.template.json "
                                    f"({a.resource_count} resources). (n) = the steps of one job.", 11)]
        return sc

    def _task_token(self, job: Grid, poller: Grid | None, hook: Box) -> None:
        """The job's wait starts the poller with its task token; the webhook or the poller hands the token back."""
        waiting = [box for n, box in job.states.items()
                   if integration(job.machine.states[n]).get("pattern") == "waitForTaskToken"]
        if not waiting:
            return
        wait, sc = waiting[0], self.scene
        back = wait.side("w", -7)
        self.arrow([hook.side("e"), (LANE_IN, hook.side("e")[1]), (LANE_IN, back[1]), back])
        sc.labels.append(Label(LANE_IN - 5, hook.y - 12, "(7) SendTaskSuccess", 10.5, anchor="end"))
        if poller is None:
            return
        leave, enter = wait.side("w", 7), (poller.box.x, poller.box.y + 22)
        self.arrow([leave, (LANE_OUT, leave[1]), (LANE_OUT, enter[1]), enter])
        sc.labels.append(Label(LANE_OUT + 8, poller.box.y - 12, "(5) starts it, passes the token", 10.5))
        for action in ("sendTaskSuccess", "sendTaskFailure"):
            for box in poller.calling(action):
                out = box.side("w", -6)
                self.arrow([out, (LANE_IN, out[1]), (LANE_IN, back[1]), back])
                sc.labels.append(Label(LANE_IN - 5, out[1] + 4, f"{action[0].upper()}{action[1:]} (token)", 10.5,
                                       anchor="end"))

    def _face_detector(self, start: Box) -> None:
        """Only when deployed (faceswap:face_precheck): called by Start job before anything is uploaded."""
        if "detect_faces" not in self.arch.functions.values():
            return
        detector = self.scene.box(215, 272, 200, 62, "λ Detect faces", ["face pre-check · OpenCV Haar",
                                                                        "sampled frames · the photo"], fill=LAMBDA)
        leave = start.side("w", 10)
        self.arrow([leave, (438, leave[1]), (438, detector.side("e")[1]), detector.side("e")])  # part of (3)

    def _failure_paths(self, job: Grid, results: Box) -> None:
        a, sc = self.arch, self.scene
        bottom = job.box.y + job.box.h
        record = job.with_handler(a, "record_failure")
        if record:  # under the states of the job, out of its box, up into results/
            gap_x, x = record.x + record.w + GAP / 2, results.x + 60
            self.arrow([record.side("e", 8), (gap_x, record.side("e", 8)[1]), (gap_x, bottom - 12), (x, bottom - 12),
                        (x, results.y + results.h)], "error.json", label_at=3, label_dx=6, label_dy=4)
        watched = next((m.short for m in a.machines if m.logical_id == a.rule_machine), "state machine")
        rule = sc.box(RIGHT_X, bottom + 64, 220, 62, "EventBridge rule", [
            " · ".join(a.rule_statuses), f"executions of the {watched}"], fill=AWS)
        failed = sc.box(RIGHT_X, rule.y + rule.h + 40, 220, 62, f"λ {name(a.rule_target)}",
                        ["timeouts, aborts: error.json"], fill=LAMBDA)
        leave, lane = (job.box.x + job.box.w - 100, bottom), RIGHT_X + 110
        self.arrow([leave, (leave[0], bottom + 32), (lane, bottom + 32), rule.side("n")], "status change",
                   dashed=True, label_at=1, label_dx=-40, label_dy=-5)
        self.arrow([rule.side("s"), failed.side("n")])
        side = results.side("e", 25)
        self.arrow([failed.side("e"), (side[0] + 30, failed.side("e")[1]), (side[0] + 30, side[1]), side],
                   "error.json", label_at=1, label_dx=-60)

    def _stores_and_alarms(self, y: float) -> None:
        a, sc = self.arch, self.scene
        what = {"Jobs": "JOB#<job_id> · TASK#<task_id>"}
        for i, store in enumerate(a.stores):
            sc.box(20 + i * 215, y, 200, ROW_H, f"{store.kind}: {store.name}",
                   [what.get(store.name, ""), "used by " + ", ".join(name(u) for u in store.used_by)],
                   fill=DATA if store.kind.startswith("Dynamo") else "#fbeaf0")
        errors = [n for n in a.alarms if n.endswith("Errors")]
        others = [n for n in a.alarms if n not in errors]
        alarms = sc.box(20 + len(a.stores) * 215 + 20, y, 330, ROW_H, f"CloudWatch alarms ({len(a.alarms)})",
                        [", ".join(others), f"Lambda errors of {len(errors)} functions"], fill="#f3f3f3")
        topic = sc.box(alarms.x + alarms.w + 60, y + (ROW_H - 60) / 2, 200, 60, "SNS alarm topic",
                       ["e-mail: faceswap:alarm_email"], fill=AWS)
        self.arrow([alarms.side("e"), topic.side("w")])
        self._job_events(y)
        sc.labels.append(Label(20, y - 12, f"State and configuration ({a.buckets} buckets incl. access logs; "
                                           f"queues: {', '.join(a.queues)})", 11, bold=True))
        sc.height = round(y + ROW_H + 30)

    def _job_events(self, y: float) -> None:
        """The Jobs table's stream → the publisher → EventBridge (docs/events.md), right of the stores' row."""
        a, sc = self.arch, self.scene
        if not a.stream_consumers:
            return
        table = next(b for b in sc.boxes if b.title.startswith("DynamoDB table"))
        publisher = sc.box(RIGHT_X, y, 235, ROW_H, f"λ {name(a.stream_consumers[0])}", [
            "one event per job state change", "QUEUED · STARTED · SUCCEEDED · FAILED"], fill=LAMBDA)
        bus = sc.box(RIGHT_X, y - 120, 235, 70, f"EventBridge bus: {a.event_bus or 'default'}", [
            "FaceSwap Job State Change", "source faceswap → your rules"], fill=AWS)
        self.arrow([publisher.side("n"), bus.side("s")])
        lane = y + ROW_H + 14  # under the row
        self.arrow([table.side("s"), (table.side("s")[0], lane), (publisher.side("s")[0], lane), publisher.side("s")],
                   "stream: JOB#, REJECTED# changes", label_at=1, label_dx=-80, label_dy=-4)

    def _legend(self, x: float, y: float) -> None:
        steps = ["(1) upload video, face, then jobs/<name>.json", "(2) the S3 event starts Start job (async)",
                 "(3) check headers (and faces), upload inputs, create task",
                 "(4) StartExecution of the job, named after the job id",
                 "(5) the job starts the poller with its task token and waits;",
                 "     the poller's heartbeats (sendTaskHeartbeat) keep it waiting",
                 "(6) the vendor posts a signed webhook",
                 "(7) SendTaskSuccess hands the token back: the webhook,",
                 "     or the poller if it sees the final status first",
                 "(8) Finalize streams the result to results/, status.json",
                 "(9) faceswap wait / result downloads it"]
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
