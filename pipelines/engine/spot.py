"""Managed Spot interruptions, simulated: follow training's round log, stop the job at a round,
and account for what the checkpoint saved.

seedcode/train.py logs (stdout, one line each):
  [ml-factory] round=<n>/<total> <metrics>        after every boosting round
  [ml-factory] checkpoint round=<n>                after writing a checkpoint
  [ml-factory] resumed from checkpoint round=<n>   when a restart picks one up
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROUND_LINE = re.compile(r"^\[ml-factory\] round=(\d+)/(\d+)(.*)$")
CHECKPOINT_LINE = re.compile(r"^\[ml-factory\] checkpoint round=(\d+)\b")
RESUMED_LINE = re.compile(r"^\[ml-factory\] resumed from checkpoint round=(\d+)\b")
METRIC = re.compile(r"([\w.]+)-([\w@.:]+)=(-?[\d.]+(?:e-?\d+)?|nan|inf)")


class RoundWatcher:
    """Reads one attempt's stdout; calls `stop()` once when round `stop_at` is done."""

    def __init__(self, stop_at: int | None, stop: Callable[[], None],
                 on_round: Callable[[int, int], None] | None = None):
        self.stop_at = stop_at
        self._stop = stop
        self._on_round = on_round
        self.last_round = 0
        self.total: int | None = None
        self.last_checkpoint = 0
        self.resumed_from: int | None = None
        self.stop_sent = False
        self.last_metrics: dict[str, float] = {}

    def __call__(self, line: str) -> None:
        if match := ROUND_LINE.match(line):
            self.last_round, self.total = int(match.group(1)), int(match.group(2))
            self.last_metrics = {f"{m[0]}:{m[1]}": float(m[2]) for m in METRIC.findall(match.group(3))}
            if self._on_round:
                self._on_round(self.last_round, self.total)
            if self.stop_at is not None and not self.stop_sent and self.last_round >= self.stop_at:
                self.stop_sent = True
                self._stop()
        elif match := CHECKPOINT_LINE.match(line):
            self.last_checkpoint = int(match.group(1))
        elif match := RESUMED_LINE.match(line):
            self.resumed_from = int(match.group(1))


@dataclass
class SpotRecord:
    """What happened to one training step under a simulated interruption."""

    requested_round: int
    managed_spot: bool
    attempts: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    _started: float = field(default_factory=time.monotonic)

    def add_attempt(self, watcher: RoundWatcher, seconds: float, interrupted: bool) -> None:
        self.attempts.append({"rounds_reached": watcher.last_round, "last_checkpoint": watcher.last_checkpoint,
                              "resumed_from": watcher.resumed_from or 0, "seconds": round(seconds, 2),
                              "interrupted": interrupted})

    def to_dict(self) -> dict[str, Any]:
        interrupted = [a for a in self.attempts if a["interrupted"]]
        data: dict[str, Any] = {"requested_round": self.requested_round, "managed_spot": self.managed_spot,
                                "interrupted": bool(interrupted), "attempts": len(self.attempts)}
        if interrupted and len(self.attempts) > 1:
            reached = interrupted[0]["rounds_reached"]
            resumed = self.attempts[1]["resumed_from"]
            data.update(interrupted_at_round=reached, resumed_from_round=resumed, rounds_saved=resumed,
                        rounds_redone=max(reached - resumed, 0),
                        seconds_before_interruption=interrupted[0]["seconds"],
                        seconds_after_restart=self.attempts[1]["seconds"])
        if self.attempts:
            data["num_round"] = max(a["rounds_reached"] for a in self.attempts)
        if self.note:
            data["note"] = self.note
        return data
