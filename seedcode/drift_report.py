"""report.html of a drift run, self-contained (charts are inline PNGs drawn with matplotlib): violations
first, then one figure per compared feature, violated features first (baseline vs current: the CDFs at
the baseline's points for numbers, the category frequencies for text, with the distance and threshold
in the caption), and summary.png (every feature's distance against its threshold) beside it."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from drift_job import Baseline, DriftResult

BASELINE_COLOR, CURRENT_COLOR, DRIFT_COLOR = "#7f8c8d", "#2e86c1", "#c0392b"
TOP_CATEGORIES = 12


# outside the f-string: literal braces in it would read as template syntax in a rendered repo
STYLE = ("body{font-family:sans-serif;margin:2em}td{padding:2px 8px;border-bottom:1px solid #ddd}"
         "figure.feature{display:inline-block;margin:4px}figcaption{font-size:12px;max-width:300px}")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    _pyplot().close(figure)
    return buffer.getvalue()


def summary_png(result: DriftResult) -> bytes:
    """A bar per compared feature: its distance (red when it drifted), its threshold marked in black."""
    plt = _pyplot()
    features = sorted(result.drift.values(), key=lambda d: -d.distance)
    figure, axes = plt.subplots(figsize=(6, 0.3 * max(len(features), 3) + 1))
    names = [d.name for d in features]
    drifted = result.drifted
    axes.barh(names, [d.distance for d in features], color=[DRIFT_COLOR if n in drifted else CURRENT_COLOR
                                                            for n in names])
    for index, d in enumerate(features):
        axes.plot([d.threshold, d.threshold], [index - 0.4, index + 0.4], color="black")
    axes.invert_yaxis()
    axes.set_xlabel("L-infinity distance to the baseline (black: threshold)")
    figure.tight_layout()
    return _png(figure)


def _numeric_axes(axes: Axes, curve: Any) -> None:
    current = curve.at_or_below / max(curve.count, 1)
    axes.step(curve.points, curve.baseline_cdf, where="post", color=BASELINE_COLOR, label="baseline")
    axes.step(curve.points, current, where="post", color=CURRENT_COLOR, label="current")
    axes.set_ylabel("CDF")


def _categorical_axes(axes: Axes, baseline: dict[str, Any], current: dict[str, int]) -> None:
    buckets = baseline["string_statistics"]["distribution"]["categorical"]["buckets"]
    base_total = sum(b["count"] for b in buckets) or 1
    base = {b["value"]: b["count"] / base_total for b in buckets}
    total = sum(current.values()) or 1
    now = {k: v / total for k, v in current.items()}
    names = sorted(set(base) | set(now), key=lambda k: -max(base.get(k, 0), now.get(k, 0)))[:TOP_CATEGORIES]
    positions = range(len(names))
    axes.bar([p - 0.2 for p in positions], [base.get(k, 0) for k in names], 0.4, color=BASELINE_COLOR,
             label="baseline")
    axes.bar([p + 0.2 for p in positions], [now.get(k, 0) for k in names], 0.4, color=CURRENT_COLOR,
             label="current")
    axes.set_xticks(list(positions), names, rotation=30, fontsize=7)
    axes.set_ylabel("share")


def feature_png(result: DriftResult, baseline: Baseline, name: str) -> bytes:
    """Baseline vs current distribution of one compared feature."""
    figure, axes = _pyplot().subplots(figsize=(4, 2.4))
    if name in result.accumulator.numeric:
        _numeric_axes(axes, result.accumulator.numeric[name])
    else:
        features = {f["name"]: f for f in baseline.statistics["features"]}
        _categorical_axes(axes, features[name], result.accumulator.category_counts(name))
    axes.set_title(name, fontsize=9)
    axes.legend(fontsize=7)
    figure.tight_layout()
    return _png(figure)


def _image(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _rows(cells: list[list[Any]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in cells)


def _figures(result: DriftResult, baseline: Baseline) -> str:
    violated = {v["feature_name"] for v in result.violations}
    features = sorted(result.drift.values(), key=lambda d: (d.name not in violated, -d.distance))
    parts = []
    for d in features:
        verdict = "drifted" if d.name in result.drifted else "within threshold"
        caption = (f"{d.name}: distance {d.distance:.4f}, threshold {d.threshold}, p-value {d.p_value:.3g}, "
                   f"{d.current_count} values ({verdict})")
        parts.append(f'<figure class="feature" data-chart="{html.escape(d.name)}">'
                     f"{_image(feature_png(result, baseline, d.name), f'{d.name}: baseline vs current')}"
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    return "".join(parts)


def write_report(result: DriftResult, baseline: Baseline) -> None:
    png = summary_png(result)
    (result.folder / "summary.png").write_bytes(png)
    violations = [[v["feature_name"], v["constraint_check_type"], v["description"]] for v in result.violations]
    malformed = "".join(f"<li>{html.escape(e)}</li>" for e in result.malformed.examples)
    counts = (f"{result.rows} rows checked; {len(result.violations)} violation(s); "
              f"{result.malformed.count} malformed input(s) skipped.")
    head = "<tr><th>feature</th><th>check</th><th>description</th></tr>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Drift report</title>
<style>{STYLE}</style></head><body>
<h1>Drift against {html.escape(baseline.package)}</h1>
<p>{counts}</p>
<h2>Violations</h2><table id="violations">{head}{_rows(violations)}</table>
<h2>Summary</h2><figure data-chart="summary">{_image(png, "distance per feature")}</figure>
<h2>Features</h2><div id="features">{_figures(result, baseline)}</div>
<h2>Malformed input</h2><ul id="malformed">{malformed}</ul></body></html>
"""
    (result.folder / "report.html").write_text(page, encoding="utf-8")
