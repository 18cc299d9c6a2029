"""The steps of a pipeline definition as a dependency graph, checked before anything runs.

A step waits for the steps in its DependsOn, for every step whose properties or property files
its arguments read, and (inside a ConditionStep's IfSteps/ElseSteps) for its condition step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.engine.expressions import step_references
from pipelines.errors import UserError

SUPPORTED_TYPES = ("Processing", "Training", "QualityCheck", "Condition", "Fail", "RegisterModel")
SUPPORTED_CHECK_TYPES = ("DATA_QUALITY",)
CACHEABLE_TYPES = ("Processing", "Training", "QualityCheck")


class DefinitionError(UserError):
    """The definition holds something the local engine cannot run; the message names the step."""


@dataclass(frozen=True)
class StepNode:
    """One step of the definition and where it sits in the graph."""

    name: str
    type: str
    spec: dict[str, Any]
    depends_on: frozenset[str]
    branch_of: str | None = None  # the ConditionStep whose IfSteps/ElseSteps hold this step
    branch: bool | None = None  # True: IfSteps, False: ElseSteps

    @property
    def arguments(self) -> dict[str, Any]:
        return self.spec.get("Arguments") or {}

    @property
    def cache_enabled(self) -> bool:
        config = self.spec.get("CacheConfig") or {}
        return self.type in CACHEABLE_TYPES and bool(config.get("Enabled"))

    @property
    def expire_after(self) -> str | None:
        return (self.spec.get("CacheConfig") or {}).get("ExpireAfter")


def step_body(step: dict[str, Any]) -> dict[str, Any]:
    """What a step reads: everything but its name, its own branches and bookkeeping."""
    body = {k: v for k, v in step.items() if k not in ("Name", "DependsOn", "DisplayName", "Description")}
    if step.get("Type") == "Condition":
        body["Arguments"] = {k: v for k, v in (step.get("Arguments") or {}).items()
                             if k not in ("IfSteps", "ElseSteps")}
    return body


class PipelineGraph:
    """Every step of a definition (condition branches flattened), in definition order."""

    def __init__(self, nodes: dict[str, StepNode]):
        self.nodes = nodes

    @classmethod
    def from_definition(cls, definition: dict[str, Any]) -> PipelineGraph:
        nodes: dict[str, StepNode] = {}

        def add(steps: list[dict[str, Any]], branch_of: str | None, branch: bool | None) -> None:
            for step in steps:
                name, kind = step.get("Name"), step.get("Type")
                if not isinstance(name, str) or not name:
                    raise DefinitionError(f"a step without a Name in the definition: {str(step)[:200]}")
                if name in nodes:
                    raise DefinitionError(f"two steps are named {name!r}; step names must be unique")
                if kind not in SUPPORTED_TYPES:
                    raise DefinitionError(
                        f"step {name!r} has type {kind!r}, which the local engine cannot run; "
                        f"it runs {', '.join(SUPPORTED_TYPES)} steps (use a cloud run for this pipeline)")
                if kind == "QualityCheck" and step.get("CheckType") not in SUPPORTED_CHECK_TYPES:
                    raise DefinitionError(
                        f"step {name!r} is a QualityCheck of CheckType {step.get('CheckType')!r}; "
                        f"the local engine runs {', '.join(SUPPORTED_CHECK_TYPES)} checks only")
                depends = set(step.get("DependsOn") or []) | step_references(step_body(step))
                if branch_of:
                    depends.add(branch_of)
                depends.discard(name)
                nodes[name] = StepNode(name, kind, step, frozenset(depends), branch_of, branch)
                if kind == "Condition":
                    arguments = step.get("Arguments") or {}
                    add(arguments.get("IfSteps") or [], name, True)
                    add(arguments.get("ElseSteps") or [], name, False)

        add(definition.get("Steps") or [], None, None)
        graph = cls(nodes)
        graph._check()
        return graph

    def _check(self) -> None:
        for node in self.nodes.values():
            unknown = sorted(node.depends_on - set(self.nodes))
            if unknown:
                raise DefinitionError(f"step {node.name!r} depends on unknown step(s) {', '.join(unknown)}")
        self.order()

    def order(self) -> list[str]:
        """Step names in an order that respects every dependency (definition order among equals)."""
        done: list[str] = []
        placed: set[str] = set()
        remaining = list(self.nodes)
        while remaining:
            ready = [name for name in remaining if self.nodes[name].depends_on <= placed]
            if not ready:
                raise DefinitionError(f"the steps {', '.join(remaining)} depend on each other in a cycle")
            for name in ready:
                placed.add(name)
                done.append(name)
            remaining = [name for name in remaining if name not in placed]
        return done

    def data_references(self, name: str) -> set[str]:
        """The steps whose properties `name` reads (not DependsOn, not its condition): its cache inputs."""
        return step_references(step_body(self.nodes[name].spec)) - {name}

    def branch_members(self, condition: str, branch: bool) -> list[str]:
        return [n.name for n in self.nodes.values() if n.branch_of == condition and n.branch == branch]
