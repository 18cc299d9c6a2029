"""report.html of a drift run: self-contained (the chart is an inline PNG), violations first, then each
compared feature's distance and threshold, drifted features first; summary.png beside it."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.monitoring.job import Baseline, DriftResult


def summary_png(result: DriftResult) -> bytes:
    """A bar per compared feature: its distance, with its threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    features = sorted(result.drift.values(), key=lambda d: -d.distance)
    figure, axes = plt.subplots(figsize=(6, 0.3 * max(len(features), 3) + 1))
    names = [d.name for d in features]
    drifted = {v["feature_name"] for v in result.violations if v["constraint_check_type"] == "baseline_drift_check"}
    axes.barh(names, [d.distance for d in features], color=["#c0392b" if n in drifted else "#2e86c1" for n in names])
    for index, d in enumerate(features):
        axes.plot([d.threshold, d.threshold], [index - 0.4, index + 0.4], color="black")
    axes.invert_yaxis()
    axes.set_xlabel("L-infinity distance to the baseline (black: threshold)")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()


def _rows(cells: list[list[Any]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in cells)


def write_report(result: DriftResult, baseline: Baseline, statistics: dict[str, Any]) -> None:
    png = summary_png(result)
    (result.folder / "summary.png").write_bytes(png)
    violations = [[v["feature_name"], v["constraint_check_type"], v["description"]] for v in result.violations]
    drifted = {v["feature_name"] for v in result.violations}
    features = sorted(result.drift.values(), key=lambda d: (d.name not in drifted, -d.distance))
    compared = [[d.name, f"{d.distance:.4f}", d.threshold, f"{d.p_value:.3g}", d.current_count] for d in features]
    malformed = "".join(f"<li>{html.escape(e)}</li>" for e in result.malformed.examples)
    image = base64.b64encode(png).decode()
    counts = (f"{result.rows} rows checked; {len(result.violations)} violation(s); "
              f"{result.malformed.count} malformed input(s) skipped.")
    head_v = "<tr><th>feature</th><th>check</th><th>description</th></tr>"
    head_f = "<tr><th>feature</th><th>distance</th><th>threshold</th><th>p-value</th><th>rows</th></tr>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Drift report</title>
<style>body{{font-family:sans-serif;margin:2em}}td{{padding:2px 8px;border-bottom:1px solid #ddd}}</style></head><body>
<h1>Drift against {html.escape(baseline.package)}</h1>
<p>{counts}</p>
<h2>Violations</h2><table id="violations">{head_v}{_rows(violations)}</table>
<h2>Features</h2><img id="summary" alt="distance per feature" src="data:image/png;base64,{image}">
<table id="features">{head_f}{_rows(compared)}</table>
<h2>Malformed input</h2><ul>{malformed}</ul></body></html>
"""
    (result.folder / "report.html").write_text(page, encoding="utf-8")
