"""The local stage for `python -m pipelines.monitor run --local`: the package its endpoint serves (recorded
by `pipelines.deploy --local` in <state>/endpoints/<stage>/spec.json), that package's DriftCheckBaselines
in the local registry and object store, the capture, the watermark the drift step keeps in the store (as
it does in S3), and per stage under <state>/monitoring/<stage>/ one folder per run (runs/<UTC time>/) and
the engine's working folders (executions/<execution id>/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.config import Config
from pipelines.errors import UserError
from pipelines.monitoring import names
from pipelines.monitoring.baselines import ServedBaselines, served_baselines
from pipelines.serving.names import REGISTRY_STAGE
from pipelines.wiring import Wiring, offline_wiring


@dataclass(frozen=True)
class LocalStage:
    config: Config
    state_root: Path
    stage: str

    @property
    def folder(self) -> Path:
        return self.state_root / "monitoring" / self.stage

    @property
    def wiring(self) -> Wiring:
        return offline_wiring(self.config.project, self.stage, self.config.account_id, self.config.aws_region,
                              "local")

    def store(self) -> Any:  # ObjectStore, imported on use
        from pipelines.engine.state import StateDir
        from pipelines.engine.store import ObjectStore

        return ObjectStore(StateDir(self.state_root).store)

    def capture_uri(self) -> str:
        return names.endpoint_capture_uri(self.wiring.artifact_bucket, self.config.project, self.stage)

    def capture_root(self) -> Path:
        """The capture folder the local server writes (the store's copy of capture_uri)."""
        return self.store().path(self.capture_uri())

    def deployed_arn(self) -> str:
        """The package the stage's endpoint serves, or served last (spec.json outlives `deploy --delete`)."""
        record = self.state_root / "endpoints" / self.stage / "spec.json"
        if not record.is_file():
            raise UserError(f"nothing is deployed on stage {self.stage} locally ({record} is missing); run "
                            f"`python -m pipelines.deploy --local --stage {self.stage}` first")
        return str(json.loads(record.read_text())["package_arn"])

    def served(self) -> ServedBaselines:
        """The drift-check baselines registered with the deployed package, present in the store."""
        from pipelines.engine.registry import LocalRegistry
        from pipelines.engine.state import REGISTRY_FILE

        arn = self.deployed_arn()
        registry = LocalRegistry(self.state_root / REGISTRY_FILE, region=self.config.aws_region,
                                 account_id=self.config.account_id)
        group = offline_wiring(self.config.project, REGISTRY_STAGE, self.config.account_id,
                               self.config.aws_region, "local").model_package_group
        package = next((p for p in registry.list_versions(group) if p.arn == arn), None)
        if package is None:
            raise UserError(f"the package deployed on {self.stage} ({arn}) is not in the local registry")
        served = served_baselines(package)
        missing = [uri for uri in (served.statistics_uri, served.constraints_uri) if not self.store().is_object(uri)]
        if missing:
            raise UserError(f"package {served.label} ({arn}) has no drift-check baselines in the local store "
                            f"({missing[0]} is missing); deploy a package registered by a local run")
        return served

    def watermark(self) -> datetime | None:
        """The end of the last window that held data, as the drift step keeps it."""
        uri = f"{names.monitoring_uri(self.wiring.artifact_bucket, self.config.project, self.stage)}/" \
              f"{names.WATERMARK_FILE}"
        path = self.store().path(uri)
        return datetime.fromisoformat(json.loads(path.read_text())["until"]) if path.is_file() else None

    def run_folder(self, now: datetime) -> Path:
        return self.folder / "runs" / now.strftime("%Y%m%dT%H%M%S%fZ")
