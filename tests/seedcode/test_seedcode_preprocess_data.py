"""seedcode/preprocess.py on a team's own data: placeholders, stray text, repeated headers, unlabelled
rows, partitioned folders. Real-looking data: scikit-learn's breast cancer table (569 rows, 30 numeric
features) written as CSV the way exports look, with the usual placeholders injected."""

from __future__ import annotations

import json
from pathlib import Path

import feature_schema
import numpy as np
import pandas as pd
import preprocess
import pytest
from seedcode_harness import input_dir
from sklearn.datasets import load_breast_cancer

TARGET = "diagnosis"
ARGS = ["--target-column", TARGET, "--problem-type", "binary_classification", "--positive-class", "malignant"]
PLACEHOLDER_ROWS = {"?": range(0, 60, 3), "-": range(1, 60, 3), " ": range(2, 60, 3), "NA": range(60, 70)}


def cancer() -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": TARGET})
    frame[TARGET] = frame[TARGET].map({0: "malignant", 1: "benign"})
    return frame


def with_placeholders(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """`column` as an export writes it: numbers as text, 70 cells holding ?, -, a blank or NA."""
    frame = frame.copy()
    frame[column] = frame[column].map(repr).astype(object)
    for placeholder, rows in PLACEHOLDER_ROWS.items():
        frame.loc[list(rows), column] = placeholder
    return frame


def write_csv(root: Path, frame: pd.DataFrame, name: str = "cancer.csv") -> Path:
    path = input_dir(root) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def run(args: list[str]) -> int:
    return preprocess.main([*ARGS, *args])


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def outputs(root: Path) -> list[str]:
    folder = root / "processing" / "output"
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def schema_of(root: Path) -> dict:
    return json.loads((root / "processing" / "output" / "train" / "features.json").read_text())


def test_placeholders_in_a_numeric_column_are_missing_and_counted(
    sm_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = with_placeholders(cancer(), "mean radius")
    write_csv(sm_root, frame)

    assert run([]) == 0

    schema = schema_of(sm_root)
    assert schema["feature_kinds"]["mean radius"] == "numeric"  # not a category of ~500 values
    assert schema["missing_placeholders"] == {"mean radius": 60}  # ?, - and blank; pandas reads NA itself
    log = capsys.readouterr().out
    assert "feature 'mean radius': 60 placeholder value(s) read as missing ('' x20, '-' x20, '?' x20)" in log
    baseline = pd.read_csv(sm_root / "processing" / "output" / "baseline" / "baseline.csv")
    assert pd.api.types.is_float_dtype(baseline["mean radius"])  # the data-quality baseline sees numbers
    splits = [pd.read_parquet(sm_root / "processing" / "output" / name / f"{name}.parquet")
              for name in ("train", "validation", "test")]
    assert splits[0]["mean radius"].isna().sum() > 0
    assert max(split["mean radius"].max() for split in splits) == pytest.approx(28.11, abs=1e-3)  # the input's max
    encoded = feature_schema.encode_features(pd.DataFrame({n: ["?"] for n in schema["feature_names"]}), schema)
    assert encoded.isna().all(axis=None)  # an endpoint request with '?' is missing too, not an error


def test_a_mostly_numeric_column_with_stray_text_is_refused(
    sm_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = with_placeholders(cancer(), "mean texture")
    frame.loc[[100, 200], "mean texture"] = ["19,5", "unknown"]  # 2 of 499 values: 99.6 % numbers
    write_csv(sm_root, frame)

    assert run([]) == 2

    message = error_line(capsys)
    assert ("feature column 'mean texture' is mostly numbers but 2 value(s) are not, e.g. '19,5', 'unknown'"
            in message)
    assert 'declare the column categorical (categorical_columns = ["mean texture"]' in message
    assert outputs(sm_root) == ["failure"]  # nothing half-written


def test_declaring_the_column_categorical_accepts_it(sm_root: Path) -> None:
    frame = cancer()
    frame["clinic"] = np.where(np.arange(len(frame)) % 50 == 0, "mobile unit", (np.arange(len(frame)) % 7 + 1)
                               .astype(str))
    write_csv(sm_root, frame)

    assert run(["--categorical-column", "clinic"]) == 0

    schema = schema_of(sm_root)
    assert schema["feature_kinds"]["clinic"] == "categorical"
    assert schema["categorical_vocabularies"]["clinic"] == ["1", "2", "3", "4", "5", "6", "7", "mobile unit"]


def test_mostly_text_column_stays_categorical(sm_root: Path) -> None:
    frame = cancer()
    frame["ward"] = np.where(np.arange(len(frame)) % 10 == 0, "12", "east")  # 10 % numbers: a category
    write_csv(sm_root, frame)

    assert run([]) == 0
    assert schema_of(sm_root)["feature_kinds"]["ward"] == "categorical"


def test_numeric_text_threshold() -> None:
    def reading(numbers: int, other: int) -> feature_schema.NumericText:
        return feature_schema.NumericText.of(pd.Series(["1.5"] * numbers + ["x"] * other + ["?", None], name="c"))

    assert reading(95, 5).mostly_numeric and not reading(94, 6).mostly_numeric
    assert reading(95, 5).placeholders == {"?": 1} and reading(95, 5).examples == ("x",)
    assert not reading(0, 0).mostly_numeric


def test_an_unknown_declared_column_is_refused(sm_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(sm_root, cancer())
    assert run(["--categorical-column", "clinik"]) == 2
    assert "categorical column(s) 'clinik' not found in the input" in error_line(capsys)


def test_repeated_column_names_are_refused(sm_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = cancer()
    path = write_csv(sm_root, frame, "export/cancer.csv")
    header, rest = path.read_text().split("\n", 1)
    path.write_text(header.replace("worst area", "mean area") + "\n" + rest)  # pandas would say 'mean area.1'

    assert run([]) == 2
    assert error_line(capsys) == ("error: input file 'export/cancer.csv' repeats column name(s) 'mean area' (2 times); "
                                  "give every column a unique name")


def test_unlabelled_rows_above_the_allowed_share_fail(sm_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = cancer()
    frame.loc[frame.index[:86], TARGET] = None  # 15.1 %
    write_csv(sm_root, frame)

    assert run([]) == 2
    assert error_line(capsys).startswith(
        "error: 86 of 569 rows (15.1%) have no value in target column 'diagnosis', more than max_dropped_fraction "
        "0.1 allows; fill in the labels, or raise max_dropped_fraction in [tool.ml-factory.data]")

    assert run(["--max-dropped-fraction", "0.2"]) == 0
    counts = schema_of(sm_root)["row_counts"]
    assert counts == {"input": 569, "dropped_missing_target": 86, "train": 339, "validation": 72, "test": 72}
    assert "dropped 86 rows with a missing target 'diagnosis' (15.1%, max_dropped_fraction 0.2)" in \
        capsys.readouterr().out


def test_partitioned_parquet_folder(sm_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = cancer()
    parts = {"year=2023/month=11/part-0.parquet": frame.iloc[:300], "year=2024/month=01/part-0.parquet":
             frame.iloc[300:], "year=2024/month=01/.spark-staging/part-9.parquet": frame.iloc[:5]}
    for name, part in parts.items():
        (input_dir(sm_root) / name).parent.mkdir(parents=True, exist_ok=True)
        part.to_parquet(input_dir(sm_root) / name, index=False)

    assert run([]) == 0

    assert "read 2 file(s), 569 rows x 33 columns (partition columns from folder names: month, year)" in \
        capsys.readouterr().out
    schema = schema_of(sm_root)
    assert schema["feature_kinds"]["year"] == schema["feature_kinds"]["month"] == "numeric"
    baseline = pd.read_csv(sm_root / "processing" / "output" / "baseline" / "baseline.csv")
    assert set(baseline["year"]) == {2023, 2024} and set(baseline["month"]) == {1, 11}


def test_a_bad_file_in_a_folder_is_named_by_its_path_inside_the_input(
    sm_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = cancer()
    folder = input_dir(sm_root) / "year=2024"
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "part-0.parquet", index=False)
    (folder / "part-1.parquet").write_bytes(b"PAR1 not really")

    assert run([]) == 2
    message = error_line(capsys)
    assert message.startswith("error: cannot read input file 'year=2024/part-1.parquet': ")
    assert str(sm_root) not in message
