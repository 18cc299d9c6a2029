"""`--step-python`: the local engine runs the step code with another interpreter, here .venv-container
(the SageMaker image's Python and library versions), while the pipeline side stays in this process."""

from __future__ import annotations

from pathlib import Path

from local_project import ROWS

STEP_TYPES_WITH_CODE = ("Processing", "Training", "QualityCheck")
RUNTIME_PREFIX = "[ml-factory] runtime: "


def runtime_lines(logs: str) -> list[str]:
    """The `runtime:` line each attempt of a step logged (seedcode/step_report.py)."""
    return [line.removeprefix(RUNTIME_PREFIX) for log in sorted(Path(logs).glob("*.stdout.log"))
            for line in log.read_text().splitlines() if line.startswith(RUNTIME_PREFIX)]


def test_steps_run_on_the_container_runtime_not_from_the_cache(project, first_run, container_python,
                                                               container_record):
    _, first = first_run
    run = project.run("--rows", ROWS, "--step-python", str(container_python))
    assert run.code == 0, run.stderr
    steps = [step for step in run.summary["steps"] if step["type"] in STEP_TYPES_WITH_CODE]
    assert len(steps) == 4
    # the cache holds the same steps run by this interpreter: another runtime reruns them
    assert not any(step["cache"]["hit"] for step in steps)
    pins = container_record.pins
    expected = [f"numpy {pins['numpy']}", f"pandas {pins['pandas']}", f"pyarrow {pins['pyarrow']}"]
    for step in steps:
        (runtime,) = runtime_lines(step["logs"])
        assert runtime.startswith(f"Python {container_record.python}."), (step["name"], runtime)
        assert all(version in runtime for version in expected), (step["name"], runtime)
    train = next(step for step in steps if step["type"] == "Training")
    assert f"xgboost {pins['xgboost-cpu']}" in runtime_lines(train["logs"])[0]
    # same data, seed and xgboost: the image's pandas/numpy/pyarrow train the same model
    assert run.summary["metrics"] == first.summary["metrics"]


def test_a_step_python_that_is_not_an_executable_is_refused_before_anything_runs(project, tmp_path):
    before = sorted(p.name for p in (project.state / "runs").iterdir())
    run = project.run("--step-python", str(tmp_path / "nowhere" / "python"))
    assert run.code == 2
    assert run.stderr.strip() == (f"error: --step-python {tmp_path / 'nowhere' / 'python'} is not an executable "
                                  "file; give a Python interpreter, e.g. .venv-container/bin/python "
                                  "(make container-venv)")
    assert sorted(p.name for p in (project.state / "runs").iterdir()) == before
