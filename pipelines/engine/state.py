"""The local engine's state folder (default `.ml-factory/` in the project root).

  s3/<bucket>/<key>        the local object store: what the cloud run keeps in S3
  registry.db              the model registry (also `python -m pipelines.registry --local`)
  cache.db                 step cache records and input-file digests
  definitions/<key>.json   built pipeline definitions, so a rerun skips the SageMaker SDK import
  runs/<execution-id>/     per execution: definition.json, summary.json, report.html and per step
                           <step>/opt_ml (the container's /opt/ml) and <step>/logs
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UserError

DEFAULT_STATE_DIR = Path(".ml-factory")
REGISTRY_FILE = "registry.db"
CACHE_FILE = "cache.db"


@dataclass(frozen=True)
class StateDir:
    root: Path

    @property
    def store(self) -> Path:
        return self.root / "s3"

    @property
    def registry(self) -> Path:
        return self.root / REGISTRY_FILE

    @property
    def cache(self) -> Path:
        return self.root / CACHE_FILE

    @property
    def definitions(self) -> Path:
        return self.root / "definitions"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def run_dir(self, execution_id: str) -> Path:
        return self.runs / execution_id

    def create(self) -> StateDir:
        for folder in (self.root, self.store, self.definitions, self.runs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def state_root(config_path: Path, state_dir: Path | None = None, demo: bool = False) -> Path:
    """--state-dir; its default `.ml-factory` sits beside --config, where `pipelines.registry --local` looks.
    The demo keeps its own state (`.ml-factory/demo`), apart from the team's real registry."""
    from pipelines.engine.registry import DEMO_STATE_DIR

    if demo:
        if state_dir is not None:
            raise UserError("--demo has its own state folder (.ml-factory/demo): drop --state-dir")
        return Path(config_path).resolve().parent / DEMO_STATE_DIR
    if state_dir is None or Path(state_dir) == DEFAULT_STATE_DIR:
        return Path(config_path).resolve().parent / DEFAULT_STATE_DIR
    return Path(state_dir)
