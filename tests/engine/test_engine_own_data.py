"""A team's own data through the local engine: a partitioned folder with placeholders runs and reports its
row counts; a bad file fails naming the user's own file, not the staged copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from local_project import Project, store_path

from pipelines.definition import STEP_PREPROCESS
from pipelines.engine.inputs import InputDataError, check_data_file, name_user_files
from pipelines.engine.store import ObjectStore
from pipelines.sample_data import make_churn_dataset

ROWS = 2400
UNLABELLED = 48  # 2 %


def churn(project: Project) -> pd.DataFrame:
    config = project.config
    frame = make_churn_dataset(ROWS, seed=8, problem_type=config.problem_type, target_column=config.target_column)
    frame[config.target_column] = frame[config.target_column].astype("float64")
    frame.loc[frame.index[::50], config.target_column] = np.nan
    return frame


def with_placeholders(frame: pd.DataFrame) -> pd.DataFrame:
    """spend_30d as an export writes it: text, with '?' for 30 unknown amounts."""
    frame = frame.copy()
    frame["spend_30d"] = frame["spend_30d"].map(lambda v: "" if pd.isna(v) else repr(v)).astype(object)
    frame.loc[frame.index[1::80], "spend_30d"] = "?"
    return frame


def partitioned(folder: Path, frame: pd.DataFrame) -> Path:
    """Spark's layout: year=/month= folders, CSV and Parquet parts, a _SUCCESS marker."""
    parts = {"year=2024/month=11/part-0.csv": frame.iloc[:800], "year=2024/month=12/part-0.parquet":
             frame.iloc[800:1600], "year=2025/month=01/part-0.csv": frame.iloc[1600:]}
    for name, part in parts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        part.to_csv(path, index=False) if name.endswith(".csv") else part.to_parquet(path, index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


def test_partitioned_folder_with_placeholders_runs_and_reports_row_counts(project: Project, tmp_path: Path) -> None:
    data = partitioned(tmp_path / "exports", with_placeholders(churn(project)))

    run = project.run("--data", str(data))

    assert run.code == 0, run.stderr
    summary = run.summary
    counts = summary["data"]["row_counts"]
    assert counts["input"] == ROWS and counts["dropped_missing_target"] == UNLABELLED
    assert counts["train"] + counts["validation"] + counts["test"] == ROWS - UNLABELLED
    assert summary["data"]["missing_placeholders"] == {"spend_30d": 30}
    assert (f"rows: {ROWS} read, {UNLABELLED} dropped (missing target), {counts['train']} train, "
            f"{counts['validation']} validation, {counts['test']} test; placeholders read as missing: spend_30d 30"
            in run.stdout)
    report = Path(summary["report_path"]).read_text()
    assert f"<div class=card data-rows='dropped_missing_target'><span class=muted>dropped (missing target)</span>" \
           f"<b>{UNLABELLED}</b></div>" in report
    staged = store_path(project, summary["input_data_uri"])
    assert sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()) == [
        "year=2024/month=11/part-0.csv", "year=2024/month=12/part-0.parquet", "year=2025/month=01/part-0.csv"]
    assert summary["registered"] is not None


@pytest.mark.parametrize("breakage, message", [
    ("corrupt", "cannot read input file '{data}/year=2024/month=12/part-0.parquet': "),
    ("repeated", "input file '{data}/year=2025/month=01/part-0.csv' repeats column name(s) 'purchases_30d' (2 times)"),
])
def test_a_bad_file_is_named_as_the_user_wrote_it(project: Project, tmp_path: Path, breakage: str,
                                                  message: str) -> None:
    data = partitioned(tmp_path / "exports", churn(project))
    if breakage == "corrupt":
        (data / "year=2024/month=12/part-0.parquet").write_bytes(b"PAR1 truncated upload")
    else:
        part = data / "year=2025/month=01/part-0.csv"
        header, rest = part.read_text().split("\n", 1)
        part.write_text(header.replace("support_tickets_90d", "purchases_30d") + "\n" + rest)

    run = project.run("--data", str(data))

    assert run.code == 1
    expected = message.format(data=data)
    error = next(line for line in run.stderr.splitlines() if line.startswith("error: "))
    assert error.startswith(f"error: pipeline failed at step {STEP_PREPROCESS}: {expected}")
    assert expected in run.summary["failure_reason"]
    assert str(project.state) not in error + run.summary["failure_reason"]  # no staged copy, no sandbox path
    assert run.summary["data"] is None


def test_too_many_unlabelled_rows_fail_the_run(project: Project, tmp_path: Path) -> None:
    frame = churn(project)
    frame.loc[frame.index[:300], project.config.target_column] = np.nan
    data = tmp_path / "labels.csv"
    frame.to_csv(data, index=False)

    run = project.run("--data", str(data))

    assert run.code == 1
    assert "342 of 2400 rows (14.2%) have no value in target column" in run.stderr
    assert "more than max_dropped_fraction 0.1 allows" in run.stderr
    assert "No row counts (the preprocessing did not finish)." in Path(run.summary["report_path"]).read_text()


def test_a_folder_without_data_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "exports" / ".hidden").mkdir(parents=True)
    (tmp_path / "exports" / ".hidden" / "part-0.csv").write_text("a,b\n1,2\n")
    (tmp_path / "exports" / "README.txt").write_text("monthly exports")
    with pytest.raises(InputDataError, match="the folder holds no .csv, .csv.gz or .parquet files"):
        check_data_file(tmp_path / "exports")
    assert check_data_file(tmp_path / "exports" / ".." / "exports" / ".hidden" / "part-0.csv").is_file()


def test_staged_names_map_back_to_the_users_paths(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "s3")
    folder = tmp_path / "exports"
    (folder / "y=1").mkdir(parents=True)
    (folder / "y=1" / "a.csv").write_text("a\n1\n")
    uri = "s3://data/team/input/sha256-0123/"
    staged = f"cannot read input file 'y=1/a.csv': bad; staged at {store.path(uri)}/y=1/a.csv ({uri}y=1/a.csv)"
    assert name_user_files(staged, folder, uri, store) == (
        f"cannot read input file '{folder}/y=1/a.csv': bad; staged at {folder}/y=1/a.csv ({folder}/y=1/a.csv)")
    single = folder / "y=1" / "a.csv"
    assert name_user_files("input file 'a.csv' is empty", single, uri, store) == f"input file '{single}' is empty"
