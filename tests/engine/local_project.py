"""A project folder for local engine tests: a small copy of this project's config, its state
folder beside it, and ways to run the pipeline and the registry CLI against it."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS = "2500"
NUM_ROUND = 20
CHECKPOINT_EVERY = 5


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml_text(table: dict[str, Any], prefix: str = "tool.ml-factory") -> str:
    """A [tool.ml-factory] table as TOML (sub-tables as sections, hyperparameters inline)."""
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict) or k == "hyperparameters"}
    tables = {k: v for k, v in table.items() if isinstance(v, dict) and k != "hyperparameters"}
    lines = [f"[{prefix}]"] + [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    text = "\n".join(lines) + "\n\n"
    for key, value in tables.items():
        text += toml_text(value, f"{prefix}.{json.dumps(key)}")
    return text


def small_config(table: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """This project's team table with quick training (few rounds, frequent checkpoints), managed Spot
    on, and no row or column sampling: xgboost does not checkpoint its random state, so only a
    deterministic setup resumes to exactly the model an uninterrupted run trains."""
    table = json.loads(json.dumps(table))
    training = table.setdefault("training", {})
    training.update(num_round=NUM_ROUND, checkpoint_every_rounds=CHECKPOINT_EVERY, use_spot=True,
                    max_runtime_seconds=3600, max_wait_seconds=7200)
    training["hyperparameters"] = {**training.get("hyperparameters", {}), "subsample": 1.0, "colsample_bytree": 1.0}
    for stage in (table.get("stages") or {}).values():  # a stage override must not undo the above
        overrides = stage.get("training") or {}
        for key in ("num_round", "checkpoint_every_rounds", "use_spot", "max_runtime_seconds", "max_wait_seconds"):
            overrides.pop(key, None)
        for key in ("subsample", "colsample_bytree"):
            (overrides.get("hyperparameters") or {}).pop(key, None)
    table.update(changes)
    return table


def write_project(folder: Path, table: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(toml_text(table))
    return pyproject


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    summary: dict[str, Any] | None


@dataclass
class Project:
    """A project folder: pyproject.toml and its state folder `.ml-factory` beside it."""

    folder: Path

    @property
    def pyproject(self) -> Path:
        return self.folder / "pyproject.toml"

    @property
    def state(self) -> Path:
        return self.folder / ".ml-factory"

    @property
    def config(self) -> Any:
        from pipelines.config import load_config

        return load_config("dev", self.pyproject)

    def lenient_threshold(self) -> str:
        """A MetricThreshold the sample data always clears, whatever metric the team picked."""
        return "0" if self.config.metric.higher_is_better else "1e9"

    def run(self, *args: str, summary: Path | None = None) -> Run:
        """`python -m pipelines.run --local ...` in this process (the SDK is imported once per session)."""
        from pipelines.errors import run_cli
        from pipelines.run import main

        summary = summary or self.folder / f"summary-{len(list(self.folder.glob('summary-*.json')))}.json"
        state = [] if "--demo" in args else ["--state-dir", str(self.state)]  # --demo has its own
        argv = ["--local", "--config", str(self.pyproject), *state, "--summary", str(summary), *args]
        if not any(a.startswith("MetricThreshold=") for a in args) and "--retry" not in args:  # a retry keeps its own
            argv += ["--param", f"MetricThreshold={self.lenient_threshold()}"]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_cli(main, argv)
        return Run(code, out.getvalue(), err.getvalue(), json.loads(summary.read_text()) if summary.exists() else None)

    def registry_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m pipelines.registry --local ...` as a user types it."""
        return subprocess.run([sys.executable, "-m", "pipelines.registry", "--local", "--config", str(self.pyproject),
                               *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    def versions(self) -> list[Any]:
        from pipelines.engine.build import local_wiring
        from pipelines.engine.registry import LocalRegistry

        config = self.config
        return LocalRegistry(self.state / "registry.db").list_versions(local_wiring(config).model_package_group)


def store_path(project: Project, uri: str) -> Path:
    """Where the local object store keeps `uri`."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return project.state / "s3" / bucket / key
