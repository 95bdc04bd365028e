"""`make local-up` (python -m local.serve): the local stack as a long-running service for `faceswap --local`.

Synthesizes cdk.out, deploys it into moto with the vendor emulator on fixed loopback ports, writes
`.local-stack.json` (endpoints, bucket, state machine, table) for the CLI, and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from local.aws.server import REGION
from local.pipeline import STACK_NAME, LocalPipeline, LocalPorts
from local.synth import ROOT, synthesize

STATE_FILE = ROOT / ".local-stack.json"
DEFAULT_PORTS = LocalPorts(moto=7790, emulator=7791, api=7792)
# As in `make demo`: a 5 s polling_interval takes 2.5 s, so a job visibly progresses but finishes quickly.
DEFAULT_TIME_SCALE = 0.5


def state_of(pipeline: LocalPipeline, time_scale: float) -> dict[str, Any]:
    """What `faceswap --local` reads (faceswap_cli.stack.StackInfo fields under "stack")."""
    outputs = pipeline.stack.outputs
    return {
        "pid": os.getpid(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "time_scale": time_scale,
        "stack": {
            "name": STACK_NAME, "region": REGION, "bucket": pipeline.bucket,
            "state_machine_arn": pipeline.state_machine_arn, "jobs_table": outputs["JobsTableName"],
            "webhook_url": pipeline.webhook_url, "endpoint_url": pipeline.stack.endpoint_url,
            "emulator_url": pipeline.emulator.base_url,
        },
    }


def write_state_file(pipeline: LocalPipeline, path: Path, time_scale: float) -> dict[str, Any]:
    state = state_of(pipeline, time_scale)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)  # readers never see half a file
    return state


def remove_state_file(path: Path) -> None:
    """Only our own: a second `make local-up` that failed to start must not delete the running one's file."""
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    ports = LocalPorts(moto=args.moto_port, emulator=args.emulator_port, api=args.api_port)
    busy = [port for port in (ports.moto, ports.emulator, ports.api) if port and not _port_free(port)]
    if busy:
        print(f"Port {busy[0]} is already in use (is a local stack already running?). Stop it, or pick other "
              "ports with --moto-port/--emulator-port/--api-port.", file=sys.stderr)
        return 3
    cdk_out = args.cdk_out if args.no_synth else synthesize(args.cdk_out)
    stop = _stop_on_signals()
    with LocalPipeline(cdk_out, time_scale=args.time_scale, ports=ports) as pipeline:
        state = write_state_file(pipeline, args.state_file, args.time_scale)
        try:
            _announce(state, args.state_file)
            stop.wait()
        finally:
            remove_state_file(args.state_file)
    print("Local stack stopped.", flush=True)
    return 0


def _announce(state: dict[str, Any], state_file: Path) -> None:
    s = state["stack"]
    print(f"Local face-swap stack is up (Wait states x{state['time_scale']:g}); state in {state_file}\n"
          f"  AWS (moto)       {s['endpoint_url']}   bucket {s['bucket']}\n"
          f"  vendor emulator  {s['emulator_url']}\n"
          f"  webhook          {s['webhook_url']}\n"
          "Try:  faceswap --local doctor; faceswap --local submit VIDEO.mp4 FACE.jpg --wait\n"
          f"      aws --endpoint-url {s['endpoint_url']} --region {s['region']} s3 ls s3://{s['bucket']}/ "
          "--recursive   (any credentials)\n"
          "Ctrl-C stops it (everything is in memory and is lost).", flush=True)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _port_free(port: int) -> bool:
    # moto's threaded server would wait forever for a port it cannot bind: check first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moto-port", type=int, default=DEFAULT_PORTS.moto, help="AWS endpoint (0: any free port)")
    parser.add_argument("--emulator-port", type=int, default=DEFAULT_PORTS.emulator, help="vendor emulator")
    parser.add_argument("--api-port", type=int, default=DEFAULT_PORTS.api, help="webhook API (API Gateway front)")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE,
                        help="speed of Wait states (1 = as on AWS)")
    parser.add_argument("--state-file", type=Path, default=STATE_FILE)
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--no-synth", action="store_true", help="deploy the existing --cdk-out as it is")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
