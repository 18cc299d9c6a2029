"""A new team's first day, as its README tells it: every bash block of a generated README runs, in order.

The repo is rendered with non-default inputs (region, problem type, metric, on-demand, CodeCommit, stage
accounts), so `make test` among the blocks is the one full run of a generated repo's own suite: the slow
parts (local engine runs, the container runtime, the browser, checkov) that the matrix leaves out. Its
substitutions, each for something a test cannot do:
- the template URL becomes this checkout (no network); `--checkout` is then ignored, as for any local template;
- `pip install cookiecutter==...` becomes a check that the lock installs that very version;
- make reuses this checkout's virtual environments (same lock files) instead of installing them again;
- the team's own data is a small CSV written where the README puts it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# us-east-1: not the default, and S3's odd region; pipelines/finops/prices.json covers eu-west-1 and us-east-1 only, so
# a repo in another region cannot pass its cost tests (--estimate and the local cost lines need that region's prices)
DAY_ONE_INPUTS = {"project_name": "Spend Forecast", "aws_region": "us-east-1", "problem_type": "regression",
                  "primary_metric": "mae", "metric_threshold": "20", "use_spot": "no",
                  "source_provider": "codecommit", "staging_account_id": "444444444444"}
TEMPLATE_URL = re.compile(r"https://github\.com/\S+\.git")
PIP_INSTALL = re.compile(r"^pip install cookiecutter==(\S+)$", flags=re.M)
DATA_ROWS = 3000


@dataclass(frozen=True)
class Environments:
    """This checkout's virtual environments, which the generated repo's make reuses."""

    venv: Path
    checkov: Path
    container: Path

    @classmethod
    def of_this_checkout(cls) -> Environments:
        container_python = os.environ.get("ML_FACTORY_CONTAINER_PYTHON", TEMPLATE_ROOT / ".venv-container/bin/python")
        checkov = os.environ.get("CHECKOV_BIN", TEMPLATE_ROOT / ".venv-checkov/bin/checkov")
        return cls(venv=Path(os.environ.get("ML_FACTORY_VENV", Path(sys.executable).parent.parent)),
                   checkov=Path(checkov).parent.parent, container=Path(container_python).parent.parent)

    def link_into(self, project: Path) -> None:
        for name, target in ((".venv", self.venv), (".venv-checkov", self.checkov),
                             (".venv-container", self.container)):
            (project / name).symlink_to(target.resolve(), target_is_directory=True)


def bash_blocks(readme: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```$", readme, flags=re.M | re.S)


def substitute(block: str) -> str:
    """The README's command as this test can run it (see the module docstring)."""
    block = TEMPLATE_URL.sub(str(TEMPLATE_ROOT), block)
    check = ("{python} -c \"import importlib.metadata as m, sys; v = m.version('cookiecutter'); "
             "sys.exit(0 if v == '\\1' else 'the README pins cookiecutter \\1, the lock installs ' + v)\"")
    block = PIP_INSTALL.sub(check.format(python=sys.executable), block)
    # make must not re-sync the shared environments: they come from the same lock files
    return re.sub(r"^make test$", "make test -o .venv/.installed -o .venv-checkov/.installed "
                  "-o .venv-container/.installed", block, flags=re.M)


def shell_env(environments: Environments) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "CHECKOV_BIN", "ML_FACTORY_CONTAINER_PYTHON", "ML_FACTORY_VENV", "AWS_"))}
    env["PATH"] = f"{environments.venv / 'bin'}{os.pathsep}{env['PATH']}"
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"], env[f"GIT_{role}_EMAIL"] = "Day One", "day-one@example.com"
    return env


def run_block(block: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", substitute(block)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=2400)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"README block failed in {cwd}:\n{block}\n---\n{tail}"
    return result


def write_team_data(project: Path) -> None:
    """The team's own data, where the README's step 3 reads it: a small table with the project's target."""
    from pipelines.config import load_config
    from pipelines.sample_data import make_churn_dataset

    config = load_config("dev", project / "pyproject.toml")
    frame = make_churn_dataset(DATA_ROWS, seed=3, problem_type=config.problem_type,
                               target_column=config.target_column)
    (project / "data").mkdir()
    frame.to_csv(project / "data" / "train.csv", index=False)


def test_every_readme_command_runs_on_day_one(render, tmp_path):
    rendered, out = render(**DAY_ONE_INPUTS)
    assert rendered.returncode == 0, rendered.stderr
    first_render = out / "spend-forecast"
    readme = (first_render / "README.md").read_text()
    render_block, *blocks = bash_blocks(readme)
    environments = Environments.of_this_checkout()
    env = shell_env(environments)

    # 1. render: the README's command reproduces this very repo
    day_one = tmp_path / "day-one"
    day_one.mkdir()
    run_block(render_block, day_one, env)
    project = day_one / "spend-forecast"
    assert (project / "pyproject.toml").read_text() == (first_render / "pyproject.toml").read_text()
    assert tomllib.loads((project / "pyproject.toml").read_text())["tool"]["ml-factory"]["aws_region"] == "us-east-1"
    environments.link_into(project)
    write_team_data(project)

    outputs = [run_block(block, project, env).stdout for block in blocks]
    by_command = dict(zip((b.strip().splitlines()[0] for b in blocks), outputs, strict=True))
    assert " passed" in by_command["make test"] and " failed" not in by_command["make test"].splitlines()[-1]
    report = next(v for k, v in by_command.items() if k.startswith("ls -t")).strip()
    assert (project / report).is_file(), report
    listing = next(v for k, v in by_command.items() if k.endswith("--local list"))
    assert re.search(r"^\s*1\s+PendingManualApproval\s+mae=", listing, flags=re.M), listing
    approved = next(v for k, v in by_command.items() if "approve latest" in k)
    assert "version 1: Approved" in approved
    # 8. taking the same release again changes none of the repo's files
    update = next(v for k, v in by_command.items() if k.startswith("cookiecutter --no-input -f"))
    assert set(update.split("\n")) - {""} == {"?? data/"}, update
    shutil.rmtree(day_one / "ml-factory-update", ignore_errors=True)
