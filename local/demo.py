"""`make demo`: the whole pipeline on this machine, from the synthesized template to a swapped MP4.

No AWS account and no vendor key: AWS runs under moto (deployed from cdk.out by CloudFormation), the YouCam API
under the local emulator, and its signed webhook reaches the webhook Lambda through a local API Gateway front.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from faceswap import layout
from faceswap_cli.waiting import wait_ended_by, wait_signal
from local.media import make_face_image, make_video
from local.pipeline import TERMINAL, LocalPipeline
from local.synth import synthesize

OUT = Path("demo-output")
# Wait states run at half speed locally: a 5 s polling_interval takes 2.5 s, so the webhook visibly wins.
DEMO_TIME_SCALE = 0.5


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    started = time.monotonic()
    _say(started, "synthesizing the CDK app (python -m infra.app) into cdk.out/")
    cdk_out = synthesize(Path("cdk.out"))
    (OUT / "inputs").mkdir(parents=True, exist_ok=True)
    video = args.video or make_video(OUT / "inputs" / "demo-clip.mp4", seconds=4)
    face = args.face or make_face_image(OUT / "inputs" / "demo-face.png")
    _say(started, f"inputs: {video} and {face}")
    with LocalPipeline(cdk_out, time_scale=args.time_scale) as pipeline:
        _say(started, f"stack deployed into moto CloudFormation; bucket {pipeline.bucket}")
        _say(started, f"vendor emulator at {pipeline.emulator.base_url}; webhooks to {pipeline.webhook_url}")
        _say(started, f"Wait states are time-scaled x{args.time_scale:g} locally (a 5 s poll takes "
                      f"{5 * args.time_scale:g} s)")
        job_id = pipeline.submit(args.name, Path(video), Path(face))
        _say(started, f"uploaded {layout.VIDEOS_PREFIX}{Path(video).name}, {layout.FACES_PREFIX}{Path(face).name}, "
                      f"{layout.manifest_key(args.name)}")
        status = _follow(pipeline, job_id, started, args.timeout)
        return _report(pipeline, job_id, status, started)


def _follow(pipeline: LocalPipeline, job_id: str, started: float, timeout: float) -> str:
    """Print each state as the execution enters it, with the elapsed time."""
    seen, status, deadline = 0, "NONE", time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = pipeline.execution_status(job_id)
        if status == "NONE":
            if pipeline.view(job_id).error:
                return "REJECTED"
            time.sleep(0.1)
            continue
        events = pipeline.history(job_id)
        for line in filter(None, map(_describe, events[seen:])):
            _say(started, line)
        seen = len(events)
        if status in TERMINAL:
            return status
        time.sleep(0.1)
    return status


def _describe(event: dict[str, Any]) -> str | None:
    """One line per state entered, plus the moments that matter; None for the rest."""
    kind = event["type"]
    if "stateEnteredEventDetails" in event:
        return f"  → {event['stateEnteredEventDetails']['name']}"
    signal = wait_signal(event)
    if signal is not None:
        if wait_ended_by(signal) == "webhook":
            return "  ← webhook received and verified: the wait ends without waiting for the next poll"
        return f"  ← the poller saw the final status (poll {signal.get('count')}) and handed the token back"
    if kind.endswith("Failed") or kind.startswith("Execution"):
        return f"    {kind}"
    return None


def _report(pipeline: LocalPipeline, job_id: str, status: str, started: float) -> int:
    view = pipeline.view(job_id)
    stats = pipeline.emulator.stats()
    _say(started, f"execution {status}; vendor tasks created: {stats.get('tasks_created')}, "
                  f"units charged: {stats.get('units_charged')}")
    if view.output_key:
        local = pipeline.download(view.output_key, OUT / f"{job_id}-swapped.mp4")
        print(json.dumps(view.status, indent=2))
        print(f"\nThe face-swapped video is at: {local.resolve()}")
        return 0
    print(json.dumps(view.error or {"error": "no result and no error.json"}, indent=2), file=sys.stderr)
    return 1


def _say(started: float, message: str) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, help="your own MP4/MOV (default: a generated clip)")
    parser.add_argument("--face", type=Path, help="your own face photo (default: a public-domain face)")
    parser.add_argument("--name", default="demo", help="job name")
    parser.add_argument("--time-scale", type=float, default=DEMO_TIME_SCALE)
    parser.add_argument("--timeout", type=float, default=180.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
