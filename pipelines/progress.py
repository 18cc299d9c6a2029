"""Step-by-step progress on stderr, with durations; one format for cloud and local runs."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s"


class Progress:
    """Prints one line per step event: `[ 12.3s] Train                 Succeeded  (8.1s)`.

    On a terminal the line of a running step is redrawn in place until it finishes.
    """

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._live = False

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _write(self, line: str, live: bool = False) -> None:
        if self._live:
            self.stream.write("\r\033[K")
        self.stream.write(line + ("" if live else "\n"))
        self.stream.flush()
        self._live = live

    def note(self, message: str) -> None:
        self._write(f"[{format_seconds(self.elapsed()):>7}] {message}")

    def step(self, name: str, status: str, duration: float | None = None, detail: str = "") -> None:
        took = f"  ({format_seconds(duration)})" if duration is not None else ""
        extra = f"  {detail}" if detail else ""
        line = f"[{format_seconds(self.elapsed()):>7}] {name:<22} {status:<10}{took}{extra}"
        running = status in ("Executing", "Running", "Starting")
        if running and not self.tty:
            if detail:  # plain output: only report running steps when there is something to say
                self._write(line)
            return
        self._write(line, live=running and self.tty)
