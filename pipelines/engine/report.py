"""`report.html` beside summary.json: the run at a glance (steps, metrics, charts, drift per feature)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from pipelines.engine.charts import STYLE as CHART_STYLE
from pipelines.engine.charts import ChartData, charts_html
from pipelines.engine.summary import ROW_COUNTS, labels_line
from pipelines.progress import format_seconds

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430;
padding:0 1rem}
h1{font-size:1.4rem;margin-bottom:.2rem}
h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #e3e7ee;padding-bottom:.3rem}.muted{color:#6a7385}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:999px;font-weight:600;font-size:.8rem}
.Succeeded,.passed{background:#dff5e3;color:#17692b}
.Failed,.violations,.failed{background:#fde2e1;color:#9b1c1c}
.Skipped,.NotStarted,.skipped{background:#eef0f4;color:#4a5263}.Executing{background:#fff4d6;color:#7a5800}
table{border-collapse:collapse;width:100%;margin-top:.5rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #eef0f4;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#6a7385}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.bad td{background:#fff5f5}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin-top:.6rem}
.card{border:1px solid #e3e7ee;border-radius:8px;padding:.6rem .9rem;min-width:120px}
.card b{display:block;font-size:1.3rem}
code{background:#f4f6f9;padding:.05rem .3rem;border-radius:4px;font-size:.85em}
"""


def _badge(status: Any) -> str:
    text = escape(str(status))
    return f'<span class="badge {text}">{text}</span>'


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1e4 or (value and abs(value) < 1e-3) else f"{value:.{digits}f}"
    return escape(str(value))


def _steps(summary: dict[str, Any]) -> str:
    rows = []
    for step in summary["steps"]:
        took = format_seconds(step["duration_seconds"]) if step["duration_seconds"] is not None else "-"
        note = (f"cache hit from <code>{escape(str(step['cache']['source_execution_id']))}</code>"
                if step["cache"]["hit"] else escape(step.get("failure_reason") or ""))
        if step.get("conditions"):
            note = escape("; ".join(step["conditions"]) + f" → {step.get('outcome')}")
        rows.append(f"<tr><td>{escape(step['name'])}</td><td>{escape(step['type'])}</td><td>{_badge(step['status'])}</td>"
                    f"<td class=num>{took}</td><td>{note}</td></tr>")
    return ("<table><tr><th>Step</th><th>Type</th><th>Status</th><th>Duration</th><th>Notes</th></tr>"
            + "".join(rows) + "</table>")


def _data(summary: dict[str, Any]) -> str:
    """Rows read, dropped for a missing target and per split; placeholders read as missing."""
    data = summary.get("data")
    if not data:
        return "<p class=muted>No row counts (the preprocessing did not finish).</p>"
    counts = data.get("row_counts") or {}
    cards = "".join(f"<div class=card data-rows='{key}'><span class=muted>{escape(label)}</span>"
                    f"<b>{escape(str(counts[key]))}</b></div>" for key, label in ROW_COUNTS if key in counts)
    placeholders = data.get("missing_placeholders") or {}
    note = ("<p>Placeholders read as missing: " + ", ".join(
        f"<code>{escape(str(name))}</code> {count}" for name, count in placeholders.items()) + "</p>"
            if placeholders else "")
    return f"<div class=cards>{cards}</div>{note}"


def _metrics(summary: dict[str, Any]) -> str:
    if not summary["metrics"]:
        return "<p class=muted>No metrics (the evaluation did not run).</p>"
    primary = (summary.get("primary_metric") or {}).get("name")
    cards = "".join(f'<div class=card><span class=muted>{escape(k)}{" (gate)" if k == primary else ""}</span>'
                    f"<b>{v:.4f}</b></div>" for k, v in summary["metrics"].items())
    gate = summary.get("gate")
    line = (f"<p>Gate <b>{escape(gate['step'])}</b>: {escape('; '.join(gate['conditions']))} → "
            f"<b>{escape(str(gate['outcome']))}</b></p>") if gate else ""
    labels = labels_line(summary.get("labels"))
    line += f"<p class=labels>Labels (class index): {escape(labels)}</p>" if labels else ""
    return f"<div class=cards>{cards}</div>{line}"


def _registered(summary: dict[str, Any]) -> str:
    registered = summary.get("registered")
    if not registered:
        unchanged = summary.get("model_unchanged")
        return f"<p class=muted>Nothing was registered{': ' + escape(unchanged['message']) if unchanged else '.'}</p>"
    return (f"<p>Model package group <b>{escape(registered['group'])}</b>, version <b>{registered['version']}</b> "
            f"{_badge(registered['status'])}<br><span class=muted>{escape(registered['arn'])}</span></p>"
            "<p class=muted>Approve it with <code>python -m pipelines.registry --local approve "
            f"{registered['version']} --reason \"...\"</code></p>")


def _profile(stats: dict[str, Any] | None) -> str:
    """`mean 3.2 ± 1.1` for numbers, `5 values, top ios (32%)` for text."""
    if not stats:
        return "-"
    if "mean" in stats:
        return f"mean {_number(stats.get('mean'))} ± {_number(stats.get('std'))}"
    share, distinct = stats.get("top_share"), stats.get("distinct")
    count = int(distinct) if isinstance(distinct, (int, float)) else "?"
    return f"{count} values, top {escape(str(stats.get('top')))}" + (
        f" ({share:.0%})" if isinstance(share, float) else "")


def _missing(stats: dict[str, Any] | None) -> str:
    value = (stats or {}).get("missing")
    return f"{value:.1%}" if isinstance(value, (int, float)) else "-"


def _feature_row(row: dict[str, Any], compared: bool) -> str:
    now, before = row.get("current") or {}, row.get("baseline") or {}
    kind = escape(str(now.get("type") or before.get("type") or "-"))
    if compared and before and now and before.get("type") != now.get("type"):
        kind = f"{escape(str(before.get('type')))} → {kind}"
    checks = "".join(f'<span title="{escape(v.get("description", ""))}">{escape(v["check"])}</span><br>'
                     for v in row.get("violation_details") or [{"check": c} for c in row.get("violations", [])])
    cells = [escape(str(row["feature"])), kind, _profile(now)]
    if compared:
        cells.append(_profile(before))
        cells.append(f"{_missing(now)} / {_missing(before)}")
    else:
        cells.append(_missing(now))
    cells.append(checks)
    return f"<tr class='{'bad' if row.get('violations') else ''}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _drift(summary: dict[str, Any]) -> str:
    drift = summary.get("drift") or {}
    status = drift.get("status", "not run")
    head = f"<p>{_badge(status)} "
    baseline = (drift.get("baseline") or {}).get("source")
    if status == "skipped":
        head += "No comparison (SkipCheck)" + ("; this run's statistics are registered as the new baseline"
                                              if drift.get("register_new_baseline") else "")
    elif baseline:
        head += f"compared with the baseline of {escape(baseline)}"
    elif drift.get("reason"):
        head += escape(drift["reason"])
    head += "</p>"
    features = drift.get("features") or []
    if not features:
        return head
    compared = status not in ("skipped",) and any(row.get("baseline") for row in features)
    heads = ["Feature", "Type", "This run"] + (["Baseline", "Missing (run / baseline)"] if compared else ["Missing"])
    return (head + "<table><tr>" + "".join(f"<th>{h}</th>" for h in heads + ["Violations"]) + "</tr>"
            + "".join(_feature_row(row, compared) for row in features) + "</table>")


def _spot(summary: dict[str, Any]) -> str:
    spot = summary.get("spot") or {}
    if not spot.get("simulated"):
        seconds = spot.get("training_seconds")
        return (f"<p class=muted>No interruption simulated (run with <code>--simulate-spot-interruption ROUND</code>)."
                f"{f' Training took {seconds} s.' if seconds is not None else ''}</p>")
    if not spot.get("interrupted"):
        return f"<p>{escape(spot.get('note') or 'Interruption requested but not triggered.')}</p>"
    return ("<div class=cards>"
            + "".join(f"<div class=card><span class=muted>{label}</span><b>{spot.get(key)}</b></div>"
                      for label, key in (("interrupted at round", "interrupted_at_round"),
                                         ("resumed from round", "resumed_from_round"),
                                         ("rounds saved", "rounds_saved"), ("rounds redone", "rounds_redone"),
                                         ("attempts", "attempts")))
            + "</div>")


def render_report(summary: dict[str, Any], charts: ChartData | None = None) -> str:
    failure = ""
    if summary["status"] != "Succeeded":
        failure = (f"<p><b>Failed at step {escape(str(summary['failed_step']))}:</b> "
                   f"{escape(str(summary['failure_reason']))}</p>")
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>{escape(summary['pipeline'])} {escape(summary['execution_id'])}</title>
<style>{STYLE}{CHART_STYLE}</style></head><body>
<h1>{escape(summary['pipeline'])} {_badge(summary['status'])}</h1>
<p class=muted>Local execution <code>{escape(summary['execution_id'])}</code>, started {escape(summary['started'])},
took {format_seconds(summary['duration_seconds'])}</p>
{failure}
<h2>Steps</h2>{_steps(summary)}
<h2>Data</h2>{_data(summary)}
<h2>Metrics</h2>{_metrics(summary)}
<h2>Model charts</h2>{charts_html(charts or ChartData())}
<h2>Model registry</h2>{_registered(summary)}
<h2>Data quality and drift</h2>{_drift(summary)}
<h2>Spot interruption</h2>{_spot(summary)}
</body></html>
"""


def write_report(summary: dict[str, Any], path: Path, charts: ChartData | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(summary, charts))
    return path
