"""What the user watches on stderr: transfer bars and the live job line. stdout stays for results."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TextIO

from faceswap_cli.waiting import Progress

BAR_WIDTH = 28
MB = 1_000_000


class TransferBar:
    """A TransferWatcher drawing `label [#####.....] 45%  12.3/27.0 MB  8.1 MB/s`, redrawn in place on a
    terminal; elsewhere (logs, CI) one line per transfer when it ends."""

    def __init__(self, stream: TextIO, min_redraw_seconds: float = 0.1) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._min_redraw = min_redraw_seconds
        self._lock = threading.Lock()
        self._label, self._total, self._done = "", 0, 0
        self._started = self._drawn_at = 0.0

    def begin(self, label: str, total_bytes: int) -> None:
        with self._lock:
            self._label, self._total, self._done = label, total_bytes, 0
            self._started = time.monotonic()
            self._drawn_at = 0.0
        self._draw(force=True)

    def advance(self, bytes_done: int) -> None:
        with self._lock:  # boto3 calls this from several transfer threads
            self._done += bytes_done
        self._draw()

    def end(self) -> None:
        with self._lock:
            self._done = max(self._done, self._total)
        if self._live:
            self._draw(force=True)
            self._stream.write("\n")
        else:
            self._stream.write(self._line() + "\n")
        self._stream.flush()

    def _draw(self, force: bool = False) -> None:
        if not self._live:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._drawn_at < self._min_redraw:
                return
            self._drawn_at = now
            self._stream.write("\r" + self._line())
            self._stream.flush()

    def _line(self) -> str:
        fraction = min(1.0, self._done / self._total) if self._total else 1.0
        filled = int(fraction * BAR_WIDTH)
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = self._done / elapsed / MB
        return (f"  {self._label:<32.32} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}  "
                f"{self._done / MB:6.1f}/{self._total / MB:.1f} MB  {rate:5.1f} MB/s")


class WaitDisplay:
    """on_progress for wait_for_result: one line rewritten in place on a terminal, else a line per change."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._last_key: tuple[object, ...] | None = None
        self._width = 0

    def __call__(self, progress: Progress) -> None:
        line = describe(progress)
        if self._live:
            padding = " " * max(0, self._width - len(line))
            self._stream.write(f"\r{line}{padding}")
            self._width = len(line)
            if progress.phase not in ("starting", "running", "finishing"):
                self._stream.write("\n")
        else:
            key = (progress.phase, progress.state, progress.polls, progress.webhook_received)
            if key == self._last_key:
                return
            self._last_key = key
            self._stream.write(line + "\n")
        self._stream.flush()


PHASES = {"starting": "starting (validating, uploading to the vendor)", "running": "running",
          "finishing": "finishing", "REJECTED": "rejected before it started"}


def describe(p: Progress) -> str:
    where = f" | {p.state}" if p.state and p.phase in ("running", "finishing") else ""
    # Known once the wait is over: the job's history holds the signal; the polls themselves run in the poller.
    ended = (" | vendor task end seen by the webhook" if p.webhook_received
             else f" | vendor task end seen by polling ({p.polls} polls)" if p.polls else "")
    return f"  {p.job_id}: {PHASES.get(p.phase, p.phase)}{where} | {fmt_seconds(p.elapsed_seconds)}{ended}"


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (headers, *rows)]
    return "\n".join(lines)
