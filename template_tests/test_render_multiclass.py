"""problem_type=multiclass_classification renders a repo whose defaults fit it: a target column, the
scale-free macro-F1 gate, and a config the pipeline loads."""

from __future__ import annotations

import tomllib
from pathlib import Path


def test_multiclass_render_gets_its_own_defaults(cookies):
    from pipelines.config import load_config
    from pipelines.rules import DEFAULT_GATE

    result = cookies.bake(extra_context={"problem_type": "multiclass_classification"})
    assert result.exit_code == 0, result.exception
    pyproject = Path(result.project_path) / "pyproject.toml"
    table = tomllib.loads(pyproject.read_text())["tool"]["ml-factory"]

    assert table["problem_type"] == "multiclass_classification"
    assert table["target_column"] == "next_month_status"
    assert (table["metric"]["name"], table["metric"]["threshold"]) == DEFAULT_GATE["multiclass_classification"]
    config = load_config("dev", pyproject)
    assert config.metric.name == "macro_f1" and config.positive_class is None
