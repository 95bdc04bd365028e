"""Run the emulator alone: python -m local.emulator --port 8808 --webhook-url http://... --secret whsec_..."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from local.emulator.config import DEFAULT_WEBHOOK_SECRET, EmulatorConfig
from local.emulator.emulator import Emulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8808, help="0 picks a free port")
    parser.add_argument("--api-key", default=EmulatorConfig.api_key)
    parser.add_argument("--secret", default=DEFAULT_WEBHOOK_SECRET, help="webhook signing secret (whsec_...)")
    parser.add_argument("--webhook-url", action="append", default=[], help="repeat for several endpoints")
    parser.add_argument("--credit-units", type=float, default=EmulatorConfig.credit_units)
    parser.add_argument("--polling-interval", type=float, default=None, help="report data.polling_interval")
    parser.add_argument("--result-ttl", type=float, default=EmulatorConfig.result_url_ttl_seconds)
    parser.add_argument("--unpolled-expiry", type=float, default=EmulatorConfig.unpolled_expiry_seconds)
    parser.add_argument("--min-processing", type=float, default=EmulatorConfig.min_processing_seconds)
    parser.add_argument("--storage-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        api_key=args.api_key,
        webhook_secret=args.secret,
        webhook_urls=list(args.webhook_url),
        credit_units=args.credit_units,
        polling_interval_seconds=args.polling_interval,
        result_url_ttl_seconds=args.result_ttl,
        unpolled_expiry_seconds=args.unpolled_expiry,
        min_processing_seconds=args.min_processing,
        storage_dir=args.storage_dir,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    # Signals only set a flag, so Ctrl-C (or SIGTERM from a supervisor) never interrupts start-up half-way.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with Emulator(config_from(args), host=args.host, port=args.port) as emulator:
        print(f"YOUCAM_BASE_URL={emulator.base_url}", flush=True)
        print(f"YOUCAM_API_KEY={emulator.config.api_key}", flush=True)
        print(f"WEBHOOK_SECRET={emulator.config.webhook_secret}", flush=True)
        print(f"webhook urls: {', '.join(emulator.config.webhook_urls) or '(none)'}; Ctrl-C stops", flush=True)
        while not stopping.wait(0.5):
            pass


if __name__ == "__main__":
    main()
