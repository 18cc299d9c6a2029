"""`python -m pipelines.run` and `pipelines.registry` options: each option belongs to the modes it acts in
(--dry-run, --local, a cloud run) and is refused elsewhere instead of ignored; --local takes its data from
[tool.ml-factory.data] path; every command finds the project's pyproject.toml from any folder inside it."""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_config
from pipelines.errors import run_cli
from pipelines.run import CLOUD, DRY_RUN, EXCLUSIVE, FLAG_MODES, LOCAL, build_parser, local_data, local_request, main

MODE_FLAGS = {DRY_RUN: ["--dry-run"], LOCAL: ["--local"], CLOUD: []}


def sample_argv(action: argparse.Action) -> list[str]:
    """The option with a value its parser accepts."""
    flag = action.option_strings[0]
    if action.nargs == 0:
        return [flag]
    if action.choices:
        return [flag, next(iter(action.choices))]
    value = {int: "5", float: "1.5", Path: "somewhere"}.get(action.type, "Name=1" if action.dest == "param" else "x")
    return [flag, value]


def cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run_cli(main, argv)
    return code, err.getvalue()


def options() -> dict[str, argparse.Action]:
    return {action.dest: action for action in build_parser()._actions if action.option_strings}


def test_every_option_of_the_parser_has_its_modes():
    assert set(options()) == set(FLAG_MODES)


@pytest.mark.parametrize("dest, mode", [(dest, mode) for dest, modes in sorted(FLAG_MODES.items())
                                        for mode in (DRY_RUN, LOCAL, CLOUD)
                                        if mode not in modes and dest not in ("dry_run", "local", "estimate")])
def test_an_option_outside_its_modes_is_refused_before_anything_runs(dest, mode, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no project here: the refusal comes first
    action = options()[dest]
    code, err = cli(MODE_FLAGS[mode] + sample_argv(action))
    assert code == 2
    assert err.startswith(f"error: {action.option_strings[0]} is for ")
    assert f"drop {action.option_strings[0]}" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["--local", "--wait"], "error: --wait is for a cloud run (no --local or --dry-run), not for --local: drop --wait"),
    (["--dry-run", "--data", "x.csv"], "error: --data is for --local, not for --dry-run: drop --data"),
    (["--dry-run", "--param", "MetricThreshold=0.9"], "error: --param is for --local or a cloud run"),
    (["--local", "--wiring", "w.json"], "error: --wiring is for --dry-run or a cloud run"),
    (["--rows", "100"], "error: --rows is for --local, not for a cloud run"),
])
def test_the_conflicts_users_hit_name_both_sides(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = cli(argv)
    assert code == 2 and err.startswith(message) and len(err.splitlines()) == 1


@pytest.mark.parametrize("first, second", [(a, b) for a, b, _ in EXCLUSIVE])
def test_options_that_exclude_each_other_are_refused(first, second, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flags = options()
    code, err = cli(["--local", *sample_argv(flags[first]), *sample_argv(flags[second])])
    assert code == 2
    assert f"{flags[first].option_strings[0]} and {flags[second].option_strings[0]} exclude each other" in err


@pytest.fixture
def project(tmp_path, repo_root) -> Path:
    folder = tmp_path / "team"
    (folder / "notebooks").mkdir(parents=True)
    shutil.copy(repo_root / "pyproject.toml", folder / "pyproject.toml")
    return folder


def local_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["--local", *argv])


def test_local_runs_read_the_configured_data_relative_to_the_pyproject(project, monkeypatch):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.ml-factory.data]\npath = "data/train.csv"\n')
    (project / "data").mkdir()
    (project / "data" / "train.csv").write_text("a,churned\n1,0\n")
    config = load_config("dev", pyproject)
    monkeypatch.chdir(project / "notebooks")  # relative to the pyproject, not to where the command runs
    assert local_data(local_args("--config", str(pyproject)), config) == project / "data" / "train.csv"
    assert local_data(local_args("--config", str(pyproject), "--data", "other.csv"), config) == Path("other.csv")
    assert local_data(local_args("--config", str(pyproject), "--rows", "100"), config) is None  # sample data
    assert local_data(local_args("--config", str(pyproject), "--demo"), config) is None
    (project / "data" / "train.csv").unlink()
    with pytest.raises(ConfigError, match=r"pyproject.toml \[tool.ml-factory.data\] path: .*data/train.csv does not "
                                          r"exist; fix the path \(relative to pyproject.toml\) or pass --data PATH"):
        local_data(local_args("--config", str(pyproject)), config)


def test_a_target_given_on_the_command_line_follows_the_same_rule(project):
    pyproject = project / "pyproject.toml"
    config = load_config("dev", pyproject)
    request = local_request(local_args("--config", str(pyproject), "--target", "Churn Flag"), config)
    assert request.target == "Churn Flag"
    code, err = cli(["--local", "--config", str(pyproject), "--target", "churn,flag"])
    assert code == 2 and err.startswith("error: --target 'churn,flag' is not a column name of")


def test_commands_find_the_project_from_a_subfolder(project):
    """The registry has no state yet: its error names the state folder beside the project's pyproject.toml."""
    registry = subprocess.run([sys.executable, "-m", "pipelines.registry", "--local", "list"],
                              cwd=project / "notebooks", capture_output=True, text=True, timeout=120,
                              env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": "/usr/bin:/bin"})
    assert registry.returncode == 2
    assert f"no local state folder {project / '.ml-factory'}" in registry.stderr
    elsewhere = subprocess.run([sys.executable, "-m", "pipelines.registry", "list"], cwd=project.parent,
                               capture_output=True, text=True, timeout=120,
                               env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": "/usr/bin:/bin"})
    assert elsewhere.returncode == 2
    assert elsewhere.stderr.strip().splitlines() == [
        f"error: no pyproject.toml with a [tool.ml-factory] table in {project.parent} or any folder above it: "
        "run inside an ML Factory project, or pass --config PATH"]


def test_the_registry_refuses_a_state_folder_for_the_cloud_registry(project):
    code = subprocess.run([sys.executable, "-m", "pipelines.registry", "--config", str(project / "pyproject.toml"),
                           "list", "--state-dir", "x"], capture_output=True, text=True, timeout=120)
    assert code.returncode == 2
    assert "--state-dir is the local engine's state folder: add --local, or drop --state-dir" in code.stderr
