"""The local stage for `python -m pipelines.monitor run --local`: the package its endpoint serves (recorded
by `pipelines.deploy --local` in <state>/endpoints/<stage>/spec.json), that package's DriftCheckBaselines
in the local registry and object store, the capture folder, and per stage under <state>/monitoring/<stage>/
the watermark (watermark.json: the end of the last checked window) and one folder per run (runs/<UTC time>/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.config import Config
from pipelines.errors import UserError
from pipelines.monitoring.job import Baseline
from pipelines.registry_model import PackageVersion
from pipelines.serving import names
from pipelines.wiring import offline_wiring

WATERMARK_FILE = "watermark.json"


@dataclass(frozen=True)
class LocalStage:
    config: Config
    state_root: Path
    stage: str

    @property
    def folder(self) -> Path:
        return self.state_root / "monitoring" / self.stage

    def _store(self) -> Any:  # ObjectStore, imported on use
        from pipelines.engine.state import StateDir
        from pipelines.engine.store import ObjectStore

        return ObjectStore(StateDir(self.state_root).store)

    def capture_root(self) -> Path:
        wiring = offline_wiring(self.config.project, self.stage, self.config.account_id, self.config.aws_region,
                                "local")
        root = self._store().path(names.capture_uri(wiring.artifact_bucket, self.config.project))
        return root / names.endpoint_name(self.config.project, self.stage) / names.VARIANT

    def ground_truth_root(self) -> Path:
        """The stage's ground-truth folder in the local object store (names.ground_truth_uri)."""
        wiring = offline_wiring(self.config.project, self.stage, self.config.account_id, self.config.aws_region,
                                "local")
        return self._store().path(names.ground_truth_uri(wiring.artifact_bucket, self.config.project, self.stage))

    def deployed_arn(self) -> str:
        """The package the stage's endpoint serves, or served last (spec.json outlives `deploy --delete`)."""
        record = self.state_root / "endpoints" / self.stage / "spec.json"
        if not record.is_file():
            raise UserError(f"nothing is deployed on stage {self.stage} locally ({record} is missing); run "
                            f"`python -m pipelines.deploy --local --stage {self.stage}` first")
        return str(json.loads(record.read_text())["package_arn"])

    def deployed_package(self) -> tuple[str, PackageVersion]:
        """The deployed package's registry record, and how messages name it ("<group> version N")."""
        from pipelines.engine.registry import LocalRegistry
        from pipelines.engine.state import REGISTRY_FILE

        arn = self.deployed_arn()
        registry = LocalRegistry(self.state_root / REGISTRY_FILE, region=self.config.aws_region,
                                 account_id=self.config.account_id)
        group = offline_wiring(self.config.project, names.REGISTRY_STAGE, self.config.account_id,
                               self.config.aws_region, "local").model_package_group
        package = next((p for p in registry.list_versions(group) if p.arn == arn), None)
        if package is None:
            raise UserError(f"the package deployed on {self.stage} ({arn}) is not in the local registry")
        return f"{group} version {package.version}", package

    def store_path(self, uri: str) -> Path:
        """Where the local object store keeps an s3:// URI."""
        return self._store().path(uri)

    def baseline(self) -> Baseline:
        """The drift-check baselines registered with the deployed package."""
        label, package = self.deployed_package()
        arn = package.arn
        quality = package.drift_check_baselines.get("ModelDataQuality") or {}
        uris = [(quality.get(kind) or {}).get("S3Uri") for kind in ("Statistics", "Constraints")]
        paths = [self._store().path(uri) for uri in uris if uri]
        if len(paths) < 2 or not all(p.is_file() for p in paths):
            raise UserError(f"package {label} ({arn}) has no drift-check baselines (ModelDataQuality statistics "
                            "and constraints); deploy a package registered by a run with a QualityCheck step")
        return Baseline(label, json.loads(paths[0].read_text()), json.loads(paths[1].read_text()))

    def watermark(self) -> datetime | None:
        path = self.folder / WATERMARK_FILE
        return datetime.fromisoformat(json.loads(path.read_text())["until"]) if path.is_file() else None

    def save_watermark(self, until: datetime) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / WATERMARK_FILE).write_text(json.dumps({"until": until.isoformat()}) + "\n")

    def run_folder(self, now: datetime) -> Path:
        return self.folder / "runs" / now.strftime("%Y%m%dT%H%M%S%fZ")
