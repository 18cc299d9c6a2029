"""`[tool.ml-factory.tracking]`: where runs are logged. Parsed by pipelines/config.py; no MLflow import.

  uri         "" (default): locally sqlite:///<state folder>/mlflow.db with artifacts in
              <state folder>/mlruns (no server); in the cloud the stage's managed tracking server
              (SSM wiring key mlflow-tracking-server-arn). Any MLflow tracking URI (http(s)://...,
              a tracking server ARN, sqlite:///...) sends both there. "none" turns tracking off.
  experiment  "" (default): <project>-<stage>, the pipeline's name.
"""

from __future__ import annotations

from dataclasses import dataclass

DISABLED = "none"  # as uri, and as the wiring value of a stage without a tracking server
EXPERIMENT_NAME_CHARS = 500


@dataclass(frozen=True)
class TrackingConfig:
    uri: str = ""  # "" = the default of the backend (local store or the stage's tracking server)
    experiment: str = ""  # "" = the pipeline name

    @property
    def disabled(self) -> bool:
        return self.uri.strip().lower() == DISABLED
