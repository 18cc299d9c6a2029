"""One drift run over a capture window: the streaming statistics and Model Monitor checks of
data_quality.py (the same code the pipeline's QualityCheck step runs), written as statistics.json,
constraint_violations.json and report.html in a run folder."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import data_quality as dq
from capture_window import Malformed, WindowReader
from step_report import DataError


@dataclass(frozen=True)
class Baseline:
    """The drift-check baseline registered with a package."""

    package: str  # shown in messages, e.g. "<group> version 3"
    statistics: dict[str, Any]
    constraints: dict[str, Any]

    @property
    def columns(self) -> list[str]:
        return [f["name"] for f in self.statistics.get("features", [])]

    def with_thresholds(self, default: float | None, features: dict[str, float]) -> Baseline:
        """The team's drift thresholds over the constraints' own: `default` for every feature (numbers and
        text), `features` per feature (monitoring_config feature_thresholds, read by data_quality.CheckSettings)."""
        config = json.loads(json.dumps(self.constraints.get("monitoring_config") or dq.DEFAULT_MONITORING_CONFIG))
        if default is not None:
            distribution = config.setdefault("distribution_constraints", {})
            distribution["comparison_threshold"] = distribution["categorical_comparison_threshold"] = default
        if features:
            config["feature_thresholds"] = dict(features)
        return Baseline(self.package, self.statistics, {**self.constraints, "monitoring_config": config})


@dataclass(frozen=True)
class DriftResult:
    rows: int
    violations: list[dict[str, str]]
    drift: dict[str, Any]  # feature -> stats_drift.FeatureDrift (distance, threshold, p-value)
    malformed: Malformed
    folder: Path
    accumulator: Any  # the stats_drift.DriftAccumulator fed the window: the current distributions

    @property
    def drifted(self) -> set[str]:
        """Features with a baseline_drift_check violation."""
        return {v["feature_name"] for v in self.violations if v["constraint_check_type"] == "baseline_drift_check"}

    @property
    def files(self) -> dict[str, Path]:
        return {name: self.folder / name for name in ("statistics.json", "constraint_violations.json",
                                                      "report.html")}


@dataclass
class WindowTally:
    """What a host read of the window besides the statistics: its rows and its skipped input (mergeable)."""

    rows: int
    malformed: Malformed

    def merge(self, other: WindowTally) -> None:
        self.rows += other.rows
        self.malformed.merge(other.malformed)


def run_drift(reader: WindowReader, baseline: Baseline, folder: Path,
              merge: Callable[[Any], Any] | None = None, write: bool = True) -> DriftResult:
    """Profile the window (parsed once into chunk files, then one streaming pass, as the spool states the
    numeric columns' ranges) and check it against the baseline; write the files. On one host's share of the
    window, ``merge`` (cluster.merged_over_hosts) makes the statistics, drift counts and tally the whole
    window's; only the host that ``write``s writes files."""
    try:
        with tempfile.TemporaryDirectory(prefix="ml-factory-drift-") as spool:
            replay = reader.spool(Path(spool))  # sets reader.ranges
            statistics, drift = dq.profile(replay, baseline.statistics, merge, reader.ranges)
        violations = dq.check_constraints(statistics.summary, drift, baseline.constraints)
        settings = dq.CheckSettings.from_constraints(baseline.constraints)
    except DataError as err:
        raise DataError(f"cannot check the capture against {baseline.package}: {err}") from None
    tally = WindowTally(reader.rows, reader.malformed)
    if merge is not None:
        tally = merge(tally)
    if not tally.rows:  # every input was malformed: nothing to write
        return DriftResult(0, [], {}, tally.malformed, folder, drift)
    found = settings.drift(drift)
    ordered = sorted(violations or [], key=lambda v: (v["constraint_check_type"] != "baseline_drift_check",
                                                      v["feature_name"]))
    result = DriftResult(tally.rows, ordered, found, tally.malformed, folder, drift)
    if not write:
        return result
    folder.mkdir(parents=True, exist_ok=True)
    content = statistics.to_statistics()
    (folder / "statistics.json").write_text(json.dumps(content, separators=(",", ":"), allow_nan=False) + "\n")
    (folder / "constraint_violations.json").write_text(json.dumps({"violations": ordered}, indent=2) + "\n")
    from drift_report import write_report  # matplotlib: imported only when there is a report to draw

    write_report(result, baseline)
    return result
