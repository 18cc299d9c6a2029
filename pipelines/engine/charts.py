"""The charts of `report.html`: what the evaluation wrote, drawn with matplotlib and embedded inline.

Data: the evaluate step's `evaluation.json` (Model Registry format: confusion matrix, ROC and
precision-recall curves; its `labels` section names the classes) and `evaluation_details.json`
beside it (feature gain, the training history per round, a residual sample for regression).
Each chart is a `<figure>` holding a PNG data URI, a caption and an alt text, so the page stays
one self-contained file that fetches nothing. matplotlib (Agg canvas, no pyplot state) is imported
only when a chart is drawn; a chart whose data is missing (an older run, a failed evaluation)
becomes a note instead.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from pipelines.engine.engine import ExecutionResult
    from pipelines.engine.store import ObjectStore

DETAILS_FILE = "evaluation_details.json"  # written by seedcode/evaluate.py next to evaluation.json
FIGURE_INCHES = (5.2, 3.6)
DPI = 150  # shown at 100 px per inch: sharp on high-density screens
TOP_FEATURES = 15
ANNOTATED_CLASSES = 12  # above this a confusion matrix shows colours only: the counts would not fit
ACCENT, SECOND, GRID = "#2b6cb0", "#dd6b20", "#c5ccd6"

STYLE = """
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:1rem;margin-top:.6rem}
figure.chart{margin:0;border:1px solid #e3e7ee;border-radius:8px;padding:.6rem}
figure.chart img{max-width:100%;height:auto;display:block}
figure.chart figcaption{font-size:.85rem;color:#4a5263;margin-top:.3rem}
"""


@dataclass(frozen=True)
class ChartData:
    """What the charts are drawn from; either document may be missing."""

    evaluation: dict[str, Any] | None = None  # evaluation.json
    details: dict[str, Any] | None = None  # evaluation_details.json
    source: str | None = None  # "<step>/<property file>" of evaluation.json


@dataclass(frozen=True)
class Chart:
    """One figure to draw: ``draw`` fills the axes; ``name`` is the figure's data-chart attribute."""

    name: str
    caption: str
    alt: str
    draw: Callable[[Axes], None]


@dataclass(frozen=True)
class Omitted:
    """A chart left out, and why (shown as a note)."""

    title: str
    reason: str


# ---------------------------------------------------------------------------- loading


def load_chart_data(result: ExecutionResult, store: ObjectStore, metrics_source: str | None) -> ChartData:
    """evaluation.json of the step the summary took its metrics from, and evaluation_details.json beside it."""
    from pipelines.engine.processing import output_specs
    from pipelines.engine.store import StoreError

    if not metrics_source:
        return ChartData()
    step, _, name = metrics_source.partition("/")
    evaluation = result.property_files.get(step, {}).get(name)
    details = None
    for _, uri, _ in output_specs(result.properties.get(step) or {}):
        candidate = f"{uri.rstrip('/')}/{DETAILS_FILE}"
        if store.exists(candidate):
            try:
                details = store.read_json(candidate)
            except (StoreError, ValueError):
                details = None
            break
    return ChartData(evaluation if isinstance(evaluation, dict) else None,
                     details if isinstance(details, dict) else None, metrics_source)


# ---------------------------------------------------------------------------- planning (no matplotlib)


def planned_charts(data: ChartData) -> list[Chart | Omitted]:
    """The charts this run's data supports, in page order; missing data gives an Omitted note."""
    evaluation, details = data.evaluation or {}, data.details or {}
    binary = evaluation.get("binary_classification_metrics")
    multiclass = evaluation.get("multiclass_classification_metrics")
    confusion = functools.partial(confusion_chart, classes=class_names(evaluation))
    plan: list[tuple[str, Callable[[Any], Chart | Omitted], Any]] = []
    if isinstance(binary, dict):
        plan += [("ROC curve", roc_chart, binary), ("Precision-recall curve", precision_recall_chart, binary),
                 ("Confusion matrix", confusion, binary)]
    elif isinstance(multiclass, dict):
        plan.append(("Confusion matrix", confusion, multiclass))
    elif "regression_metrics" in evaluation or details.get("problem_type") == "regression":
        plan.append(("Residual plot", residual_chart, details.get("residuals")))
    plan += [("Feature importance", importance_chart, details.get("feature_importance")),
             ("Training curves", history_chart, details.get("training_history"))]
    return [_planned(title, build, source) for title, build, source in plan]


def _planned(title: str, build: Callable[[Any], Chart | Omitted], source: Any) -> Chart | Omitted:
    """A malformed document (hand-edited, from another version) gives a note, never a broken report."""
    try:
        return build(source)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return Omitted(title, f"its data is malformed ({type(exc).__name__}: {exc})")


def _missing(title: str, what: str) -> Omitted:
    return Omitted(title, f"this run's evaluation output has no {what} (written by evaluations since the "
                          "report charts exist; rerun the pipeline to get it)")


def roc_chart(section: dict[str, Any]) -> Chart | Omitted:
    curve = section.get("receiver_operating_characteristic_curve")
    if not isinstance(curve, dict):
        return _missing("ROC curve", "receiver_operating_characteristic_curve")
    fpr, tpr = curve["false_positive_rates"], curve["true_positive_rates"]
    auc = (section.get("auc") or {}).get("value")
    label = f"AUC {auc:.3f}" if isinstance(auc, (int, float)) else "model"

    def draw(ax: Axes) -> None:
        ax.plot([0, 1], [0, 1], color=GRID, linestyle="--", label="chance")
        ax.plot(fpr, tpr, color=ACCENT, label=label)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="lower right")

    return Chart("roc", f"ROC curve on the test split ({label}, {len(fpr)} points).",
                 f"ROC curve: true positive rate against false positive rate, {label}", draw)


def precision_recall_chart(section: dict[str, Any]) -> Chart | Omitted:
    curve = section.get("precision_recall_curve")
    if not isinstance(curve, dict):
        return _missing("Precision-recall curve", "precision_recall_curve")
    precisions, recalls = curve["precisions"], curve["recalls"]

    def draw(ax: Axes) -> None:
        ax.plot(recalls, precisions, color=ACCENT, drawstyle="steps-post")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))

    return Chart("precision-recall", "Precision against recall over all probability thresholds (test split).",
                 "Precision-recall curve of the model on the test split", draw)


def class_names(evaluation: dict[str, Any]) -> dict[str, str]:
    """Class index (as the confusion matrix keys it) -> label, from evaluation.json's `labels` section."""
    mapping = (evaluation.get("labels") or {}).get("mapping") or {}
    return {str(index): str(label) for label, index in mapping.items()} if isinstance(mapping, dict) else {}


def _class_order(key: str) -> tuple[int, int, str]:
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def confusion_chart(section: dict[str, Any], classes: dict[str, str] | None = None) -> Chart | Omitted:
    """Counts (and shares) of actual against predicted class, the classes named by their labels."""
    matrix = section.get("confusion_matrix")
    if not isinstance(matrix, dict):
        return _missing("Confusion matrix", "confusion_matrix")
    keys = sorted(matrix, key=_class_order)
    labels = [(classes or {}).get(key, key) for key in keys]
    counts = [[int(matrix[actual].get(predicted, 0)) for predicted in keys] for actual in keys]
    total = sum(map(sum, counts)) or 1

    def draw(ax: Axes) -> None:
        ax.grid(False)
        ax.imshow(counts, cmap="Blues")
        peak = max(max(row) for row in counts)
        if len(keys) <= ANNOTATED_CLASSES:
            size = 10 if len(keys) <= 4 else 7
            for i, row in enumerate(counts):
                for j, count in enumerate(row):
                    ax.text(j, i, f"{count}\n{count / total:.1%}", ha="center", va="center", fontsize=size,
                            color="white" if count > peak / 2 else "#1d2430")
        ax.set(xticks=range(len(keys)), yticks=range(len(keys)), xlabel="predicted label", ylabel="actual label")
        ax.set_xticklabels(labels, rotation=30 if len(keys) > 4 else 0, ha="right" if len(keys) > 4 else "center",
                           fontsize=8)
        ax.set_yticklabels(labels, fontsize=8)

    cells = ", ".join(f"actual {a} predicted {p}: {counts[i][j]}" for i, a in enumerate(labels)
                      for j, p in enumerate(labels))
    cut = "at the decision threshold" if len(keys) == 2 else "predicting the most probable class"
    return Chart("confusion-matrix", f"Confusion matrix on {total} test rows, {cut} (classes: {', '.join(labels)}).",
                 f"Confusion matrix: {cells}", draw)


def residual_chart(residuals: dict[str, Any] | None) -> Chart | Omitted:
    if not isinstance(residuals, dict):
        return _missing("Residual plot", "residual sample")
    actual, predicted = residuals["actual"], residuals["predicted"]
    errors = [a - p for a, p in zip(actual, predicted, strict=True)]
    shown = f"{len(actual)} of {residuals.get('rows', len(actual))} test rows"

    def draw(ax: Axes) -> None:
        ax.axhline(0, color=GRID, linestyle="--")
        ax.scatter(predicted, errors, s=9, alpha=0.55, color=ACCENT, linewidths=0)
        ax.set(xlabel="predicted", ylabel="actual - predicted")

    return Chart("residuals", f"Residuals against predictions ({shown}); a good model scatters evenly around 0.",
                 f"Residual plot of {shown}: actual minus predicted against predicted", draw)


def importance_chart(importance: dict[str, Any] | None) -> Chart | Omitted:
    if not isinstance(importance, dict):
        return _missing("Feature importance", "feature importance")
    features = importance["features"][:TOP_FEATURES]
    if not features:
        return Omitted("Feature importance", "the model made no splits, so no feature has any gain")
    names, gains = [f["name"] for f in features][::-1], [f["gain"] for f in features][::-1]
    kind = str(importance.get("importance_type", "gain"))
    used = importance.get("features_used", len(importance["features"]))

    def draw(ax: Axes) -> None:
        ax.figure.subplots_adjust(left=min(0.5, 0.05 + 0.0125 * max(map(len, names))))  # room for the names
        ax.barh(range(len(names)), gains, color=ACCENT)
        ax.set_yticks(range(len(names)), labels=names, fontsize=8)
        ax.set(xlabel=f"{kind} (average loss reduction per split)" if kind == "gain" else kind)

    top = ", ".join(reversed(names[-3:]))
    return Chart("feature-importance", f"Top {len(names)} of {used} features used by the model, by {kind}.",
                 f"Bar chart of feature importance by {kind}; the top features are {top}", draw)


def history_chart(history: dict[str, Any] | None) -> Chart | Omitted:
    metrics = (history or {}).get("metrics") or {}
    series = [(data, metric, values) for data, by in sorted(metrics.items()) for metric, values in by.items()
              if values]
    if not series:
        return _missing("Training curves", "training history")
    first = int(history.get("first_round", 1))
    names = sorted({metric for _, metric, _ in series})
    note = "" if "train" in metrics else " Validation only: the hyperparameter eval_train=true adds the training curve."
    resumed = f" Rounds before {first} were trained by an earlier attempt without history." if first > 1 else ""

    def draw(ax: Axes) -> None:
        for data, metric, values in series:
            ax.plot(range(first, first + len(values)), values, label=f"{data} {metric}",
                    color=SECOND if data == "train" else ACCENT, linestyle="-" if metric == names[0] else ":")
        ax.set(xlabel="boosting round", ylabel=", ".join(names))
        ax.legend(loc="best")

    return Chart("training-curves", f"Metric per boosting round ({', '.join(names)}).{note}{resumed}",
                 f"Line chart of {', '.join(f'{d} {m}' for d, m, _ in series)} for each boosting round", draw)


# ---------------------------------------------------------------------------- drawing


def png_data_uri(draw: Callable[[Axes], None], inches: tuple[float, float] = FIGURE_INCHES) -> str:
    """Draw on a fresh Agg figure and return it as a `data:image/png;base64,...` URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=inches)  # fixed margins: a layout engine would double the drawing time
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.13, right=0.97, top=0.96, bottom=0.14)
    axes = figure.add_subplot()
    axes.grid(True, color="#eef0f4")
    axes.set_axisbelow(True)
    draw(axes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_html(chart: Chart, inches: tuple[float, float] = FIGURE_INCHES) -> str:
    """A `<figure>` with the chart as an inline PNG (shown at 100 px per inch), its caption and alt text."""
    width, height = round(inches[0] * 100), round(inches[1] * 100)
    return (f'<figure class=chart data-chart="{escape(chart.name)}"><img src="{png_data_uri(chart.draw, inches)}" '
            f'width={width} height={height} alt="{escape(chart.alt)}"><figcaption>{escape(chart.caption)}'
            "</figcaption></figure>")


def charts_html(data: ChartData) -> str:
    """The report's chart section body: the figures, then a note per chart left out."""
    if data.evaluation is None and data.details is None:
        return "<p class=muted>No charts: the evaluation did not run (or wrote nothing) in this execution.</p>"
    figures, notes = [], []
    for item in planned_charts(data):
        if isinstance(item, Omitted):
            notes.append(f"<li>{escape(item.title)} left out: {escape(item.reason)}.</li>")
            continue
        try:
            figures.append(figure_html(item))
        except (KeyError, TypeError, ValueError, IndexError) as exc:  # malformed data must not break the report
            notes.append(f"<li>{escape(item.caption)} could not be drawn: {escape(f'{type(exc).__name__}: {exc}')}"
                         "</li>")
    html = f"<div class=charts>{''.join(figures)}</div>" if figures else ""
    return html + (f"<ul class='muted chart-notes'>{''.join(notes)}</ul>" if notes else "")
