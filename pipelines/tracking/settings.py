"""`[tool.ml-factory.tracking]`: where runs are logged. Parsed by pipelines/config.py; no MLflow import.

  uri         "" (default): locally sqlite:///<state folder>/mlflow.db with artifacts in
              <state folder>/mlruns (no server); in the cloud the stage's managed tracking server
              (SSM wiring key mlflow-tracking-server-arn). Any MLflow tracking URI (http(s)://...,
              a tracking server ARN, sqlite:///...) sends both there. "none" turns tracking off.
  experiment  "" (default): <project>-<stage>, the pipeline's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.errors import UserError

DISABLED = "none"  # as uri, and as the wiring value of a stage without a tracking server
EXPERIMENT_NAME_CHARS = 500


@dataclass(frozen=True)
class TrackingConfig:
    uri: str = ""  # "" = the default of the backend (local store or the stage's tracking server)
    experiment: str = ""  # "" = the pipeline name

    @property
    def disabled(self) -> bool:
        return self.uri.strip().lower() == DISABLED


def parse_tracking(table: dict[str, Any], where: str) -> TrackingConfig:
    """The tracking table; `where` names it in errors (e.g. "pyproject.toml [tool.ml-factory.tracking]")."""
    unknown = sorted(set(table) - {"uri", "experiment"})
    if unknown:
        raise UserError(f"{where}: unknown setting(s) {', '.join(unknown)}; use uri and experiment")
    values = {}
    for key in ("uri", "experiment"):
        value = table.get(key, "")
        if not isinstance(value, str):
            raise UserError(f"{where} {key}: expected a string, got {value!r}")
        values[key] = value.strip()
    if len(values["experiment"]) > EXPERIMENT_NAME_CHARS:
        raise UserError(f"{where} experiment: at most {EXPERIMENT_NAME_CHARS} characters, got "
                        f"{len(values['experiment'])}")
    return TrackingConfig(**values)
