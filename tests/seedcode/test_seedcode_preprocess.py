"""seedcode/preprocess.py: outputs, determinism, encoding, and one-line errors for bad data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import feature_schema
import numpy as np
import pandas as pd
import preprocess
import pytest
from seedcode_harness import input_dir, run_script, write_input

from pipelines.sample_data import make_churn_dataset, write_dataset

SPLITS = ("train", "validation", "test")
ARGS = ["--target-column", "churned", "--problem-type", "binary_classification"]


def _churn_with_missing_targets(rows: int = 2000, seed: int = 3) -> pd.DataFrame:
    frame = make_churn_dataset(rows, seed=seed)
    frame["churned"] = frame["churned"].astype("float64")
    frame.loc[frame.index[::97], "churned"] = np.nan  # 21 rows without a label
    return frame


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One run of the script as a container runs it: a CSV and a nested Parquet file, some labels missing."""
    root = tmp_path_factory.mktemp("cli") / "opt_ml"
    frame = _churn_with_missing_targets()
    write_input(root, frame.iloc[:1200], "part-1.csv")
    write_input(root, frame.iloc[1200:], "nested/part-2.parquet")
    return root, run_script("preprocess.py", ARGS, root)


def test_outputs_row_counts_and_layout(cli_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, result = cli_run
    frame = _churn_with_missing_targets()

    assert result.returncode == 0, result.stderr
    assert "[ml-factory] read 2 file(s), 2000 rows" in result.stdout
    assert "dropped 21 rows with a missing target" in result.stdout
    output = root / "processing" / "output"
    frames = {name: pd.read_parquet(output / name / f"{name}.parquet") for name in SPLITS}
    assert sum(len(f) for f in frames.values()) == 2000 - 21
    assert (len(frames["validation"]), len(frames["test"])) == (297, 297)  # round(1979 * 0.15)

    schema = json.loads((output / "train" / "features.json").read_text())
    features = [c for c in frame.columns if c != "churned"]
    assert schema["feature_names"] == features
    assert schema["label_mapping"] == {"0": 0, "1": 1}
    assert schema["row_counts"] == {
        "input": 2000, "dropped_missing_target": 21, "train": 1385, "validation": 297, "test": 297,
    }
    for name, split in frames.items():
        assert list(split.columns) == ["churned", *features]
        assert set(split["churned"].unique()) == {0, 1}
        assert all(split[f].dtype == np.float32 for f in features)
        assert json.loads((output / name / "features.json").read_text()) == schema
    assert frames["train"]["avg_session_minutes"].isna().any()  # numeric NaNs are kept


def test_split_is_deterministic_and_seeded(
    cli_run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    first, _ = cli_run
    second, reseeded = tmp_path / "b", tmp_path / "c"
    frame = _churn_with_missing_targets()
    write_input(second, frame.iloc[:1200], "part-1.csv")
    write_input(second, frame.iloc[1200:], "nested/part-2.parquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SM_OPT_ML_ROOT", str(second))
        assert preprocess.main(ARGS) == 0  # in-process this time: same bytes as the subprocess run

    for name in SPLITS:
        one = (first / "processing" / "output" / name / f"{name}.parquet").read_bytes()
        two = (second / "processing" / "output" / name / f"{name}.parquet").read_bytes()
        assert one == two

    write_input(reseeded, frame.dropna(subset=["churned"]), "data.parquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SM_OPT_ML_ROOT", str(reseeded))
        assert preprocess.main([*ARGS, "--seed", "7"]) == 0
    test_a = pd.read_parquet(first / "processing" / "output" / "test" / "test.parquet")
    test_c = pd.read_parquet(reseeded / "processing" / "output" / "test" / "test.parquet")
    assert len(test_a) == len(test_c) and not test_a.equals(test_c)


def test_categorical_encoding_matches_the_sorted_training_vocabulary(prepared: dict[str, Path]) -> None:
    output = prepared["binary_classification"]
    schema = feature_schema.load_schema(output / "train")
    train = pd.read_parquet(output / "train" / "train.parquet")
    baseline = pd.read_csv(output / "baseline" / "baseline.csv")

    assert schema["categorical_vocabularies"]["subscription_tier"] == ["basic", "free", "premium"]
    for name, vocab in schema["categorical_vocabularies"].items():
        assert vocab == sorted(vocab)
        raw, codes = baseline[name], train[name].to_numpy()
        assert np.isnan(codes[raw.isna().to_numpy()]).all()  # missing stays missing
        present = raw.notna().to_numpy()
        assert [vocab[int(c)] for c in codes[present]] == list(raw[present])

    encoded = feature_schema.encode_features(
        pd.DataFrame({**{n: [1.0, None] for n in schema["feature_names"]}, "platform": ["ios", "smart-fridge"]}),
        schema,
    )
    assert encoded["platform"].tolist() == [schema["categorical_vocabularies"]["platform"].index("ios"), -1.0]
    assert encoded["country"].iloc[0] == -1.0 and np.isnan(encoded["country"].iloc[1])  # 1.0 is no country


def test_baseline_holds_raw_training_features_without_the_target(prepared: dict[str, Path]) -> None:
    output = prepared["binary_classification"]
    schema = feature_schema.load_schema(output / "train")
    baseline = pd.read_csv(output / "baseline" / "baseline.csv")
    train = pd.read_parquet(output / "train" / "train.parquet")

    assert list(baseline.columns) == schema["feature_names"]
    assert "churned" not in baseline.columns
    assert len(baseline) == len(train) == schema["row_counts"]["train"]
    assert baseline["platform"].dropna().isin(["android", "ios", "pc", "console", "web"]).all()  # raw text
    np.testing.assert_array_equal(baseline["spend_30d"].to_numpy(np.float32), train["spend_30d"].to_numpy())


def test_text_booleans_and_datetimes(sm_root: Path) -> None:
    frame = pd.DataFrame({
        "answer": ["yes", "no", "yes", "no", "yes", "no"] * 50,
        "signed_up": pd.to_datetime(["2024-01-01", "2024-06-01", None] * 100),
        "is_vip": [True, False, True] * 100,
        "score": np.arange(300, dtype="float64"),
    })
    write_input(sm_root, frame, "d.parquet")

    assert preprocess.main(["--target-column", "answer", "--problem-type", "binary_classification"]) == 0

    output = sm_root / "processing" / "output"
    schema = feature_schema.load_schema(output / "train")
    assert schema["label_mapping"] == {"no": 0, "yes": 1}
    assert schema["feature_kinds"] == {"signed_up": "datetime", "is_vip": "boolean", "score": "numeric"}
    train = pd.read_parquet(output / "train" / "train.parquet")
    assert set(train["is_vip"].unique()) == {0.0, 1.0}
    stamps = train["signed_up"].dropna().unique()
    assert set(stamps) <= {np.float32(1704067200), np.float32(1717200000)}  # epoch seconds


def test_regression_target(prepared: dict[str, Path]) -> None:
    output = prepared["regression"]
    schema = feature_schema.load_schema(output / "train")
    train = pd.read_parquet(output / "train" / "train.parquet")
    assert schema["problem_type"] == "regression" and schema["label_mapping"] is None
    assert train["churned"].dtype == np.float64 and train["churned"].nunique() > 100


def _bad_missing_target(root: Path) -> None:
    write_input(root, make_churn_dataset(50, seed=1).drop(columns="churned"))


def _bad_empty_file(root: Path) -> None:
    input_dir(root).mkdir(parents=True)
    (input_dir(root) / "empty.csv").write_text("")


def _bad_header_only(root: Path) -> None:
    input_dir(root).mkdir(parents=True)
    (input_dir(root) / "header.csv").write_text("a,b,churned\n")


def _bad_all_null_target(root: Path) -> None:
    frame = make_churn_dataset(50, seed=1)
    frame["churned"] = np.nan
    write_input(root, frame)


def _bad_three_classes(root: Path) -> None:
    frame = make_churn_dataset(60, seed=1)
    frame["churned"] = ["a", "b", "c"] * 20
    write_input(root, frame)


def _bad_text_regression_target(root: Path) -> None:
    frame = make_churn_dataset(50, seed=1)
    frame["churned"] = ["12.5", "lots"] * 25
    write_input(root, frame)


def _bad_no_files(root: Path) -> None:
    input_dir(root).mkdir(parents=True)
    (input_dir(root) / "notes.txt").write_text("not data")


def _bad_mismatched_files(root: Path) -> None:
    frame = make_churn_dataset(50, seed=1)
    write_input(root, frame, "a.csv")
    write_input(root, frame.drop(columns="level"), "b.csv")


@pytest.mark.parametrize(
    ("make_input", "problem_type", "expected"),
    [
        (_bad_missing_target, "binary_classification", "target column 'churned' not found in input; columns are:"),
        (_bad_empty_file, "binary_classification", "is empty"),
        (_bad_header_only, "binary_classification", "contain no rows"),
        (_bad_all_null_target, "binary_classification", "target column 'churned' is empty in every row"),
        (_bad_three_classes, "binary_classification", "needs exactly 2 distinct values in target column 'churned'"),
        (_bad_text_regression_target, "regression", "regression target column 'churned' is not numeric"),
        (_bad_no_files, "binary_classification", "no .csv, .csv.gz or .parquet files found"),
        (_bad_mismatched_files, "binary_classification", "has different columns than"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    sm_root: Path, capsys: pytest.CaptureFixture[str], make_input, problem_type: str, expected: str
) -> None:
    make_input(sm_root)

    code = preprocess.main(["--target-column", "churned", "--problem-type", problem_type])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err
    assert "Traceback" not in err
    failure = sm_root / "processing" / "output" / "failure"
    assert failure.read_text().strip() == err.strip()[len("error: "):]


def test_bad_input_from_the_command_line_has_no_traceback(tmp_path: Path) -> None:
    root = tmp_path / "opt_ml"
    write_dataset(make_churn_dataset(50, seed=1).drop(columns="churned"), input_dir(root) / "x.csv")

    result = run_script("preprocess.py", ARGS, root)

    assert result.returncode == 2
    assert result.stderr.startswith("error: target column 'churned' not found in input; columns are: sessions_last_7d")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_baseline_is_a_seeded_sample_above_the_row_cap(tmp_path: Path) -> None:
    """Large training splits get a fixed-size, reproducible baseline sample of their raw rows."""
    frame = make_churn_dataset(1500, seed=5)
    outputs = []
    for attempt in ("a", "b"):
        root = tmp_path / attempt / "opt_ml"
        write_input(root, frame, "data.parquet")
        result = run_script("preprocess.py", [*ARGS, "--baseline-max-rows", "400"], root)
        assert result.returncode == 0, result.stderr
        assert "a 400-row baseline CSV" in result.stdout
        outputs.append(root / "processing" / "output" / "baseline" / "baseline.csv")
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    baseline = pd.read_csv(outputs[0])
    assert len(baseline) == 400 and list(baseline.columns) == [c for c in frame.columns if c != "churned"]
    rows = set(frame["spend_30d"].round(6).dropna())
    assert set(baseline["spend_30d"].round(6).dropna()) <= rows  # real input rows, not synthesized ones
