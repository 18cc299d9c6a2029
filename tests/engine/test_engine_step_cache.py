"""Each step's cache key covers only its own code, as SageMaker's step caching does: editing train.py
re-runs Train and what reads its output, not Preprocess or DataQualityCheck; editing the data-quality
analyzer re-runs only DataQualityCheck."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from local_project import ROWS

import pipelines.code_bundle as code_bundle
from pipelines.definition import STEP_DATA_QUALITY, STEP_EVALUATE, STEP_PREPROCESS, STEP_TRAIN


def edited_seedcode(tmp_path: Path, script: str) -> Path:
    copy = tmp_path / "seedcode"
    shutil.copytree(code_bundle.SEEDCODE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", ".*cache"))
    (copy / script).write_text((copy / script).read_text() + "\n# edited by the team\n")
    return copy


def cache_hits(summary: dict) -> dict[str, bool]:
    return {step["name"]: step["cache"]["hit"] for step in summary["steps"]}


@pytest.mark.parametrize("script, rerun, kept", [
    ("train.py", (STEP_TRAIN, STEP_EVALUATE), (STEP_PREPROCESS, STEP_DATA_QUALITY)),
    ("data_quality.py", (STEP_DATA_QUALITY,), (STEP_PREPROCESS, STEP_TRAIN, STEP_EVALUATE)),
])
def test_editing_a_steps_code_reruns_that_step_and_what_reads_it(project, tmp_path, monkeypatch, script, rerun,
                                                                 kept):
    monkeypatch.setattr(code_bundle, "SEEDCODE_DIR", edited_seedcode(tmp_path, script))
    run = project.run("--rows", ROWS)
    assert run.code == 0, run.stderr
    hits = cache_hits(run.summary)
    assert {name: hits[name] for name in rerun + kept} == {**dict.fromkeys(rerun, False), **dict.fromkeys(kept, True)}
