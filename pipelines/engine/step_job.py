"""What a step runner gets (`StepJob`) and gives back (`StepResult`, or raises `StepFailed`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.engine.execution import Execution
from pipelines.engine.graph import StepNode
from pipelines.engine.registry import LocalRegistry
from pipelines.engine.sandbox import Sandbox
from pipelines.engine.store import ObjectStore
from pipelines.lineage import Lineage


@dataclass(frozen=True)
class EngineSettings:
    """Knobs of a local run that are not in the definition."""

    max_workers: int = 2
    spot_interruption_round: int | None = None  # stop training at this round once, then resume
    host_failure_round: int | None = None  # kill training's last host after this round (a lost instance)
    spot_grace_seconds: float = 5.0  # SIGTERM -> SIGKILL
    analyzer_code_uri: str | None = None  # store prefix holding data_quality.py (the Model Monitor stand-in)
    step_python: Path = Path(sys.executable)  # runs the step code: `python3` of the container commands
    lineage: Lineage | None = None  # what the run was made from: RegisterModel records it


@dataclass
class StepResult:
    """A finished step: the properties later steps can Get, and facts for the summary."""

    properties: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)  # e.g. {"drift": {...}, "spot": {...}}
    outputs: list[str] = field(default_factory=list)  # store URIs written, checked on a cache hit


class StepFailed(Exception):
    """The step ran and failed; `reason` is its FailureReason."""

    def __init__(self, reason: str, facts: dict[str, Any] | None = None, properties: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.facts = facts or {}
        self.properties = properties or {}


@dataclass
class StepJob:
    """Everything one step run needs: its node, resolved arguments and the engine's services."""

    node: StepNode
    arguments: dict[str, Any]  # every expression resolved
    execution: Execution
    store: ObjectStore
    step_dir: Path
    registry: LocalRegistry
    settings: EngineSettings
    notify: Callable[..., None] = lambda *_args, **_kwargs: None  # notify(detail, important=False)
    prepared: dict[str, Any] = field(default_factory=dict)  # what the engine worked out before the cache lookup

    @property
    def name(self) -> str:
        return self.node.name

    def sandbox(self) -> Sandbox:
        return Sandbox(self.step_dir, self.settings.step_python)
