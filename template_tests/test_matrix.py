"""Every row of the input matrix (input_matrix.py) renders a repo that passes its own fast tests.

Inside each generated repo run the project tests that read the team's inputs: config, the pipeline
definition (gate direction, Spot, tags, region), the cloud run and the registry on moto, the request
contracts at the longest names, and the stage settings and cost tags of infra/. The slow parts (local
engine runs, the container runtime, the browser, checkov) run once, on one non-default render, in
test_generated_repo.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from input_matrix import matrix_rows

from pipelines.rules import METRIC_SPECS, PROBLEM_TYPES

FAST_TESTS = (
    "tests/test_config.py::test_this_repos_config_loads_for_every_stage",
    "tests/infra/test_stage_settings.py",
    "tests/infra/test_cost_tags.py",
    "tests/test_definition.py::test_all_six_stages_with_their_types",
    "tests/test_definition.py::test_gate_compares_primary_metric_with_threshold_parameter",
    "tests/test_definition.py::test_registered_package_serves_in_script_mode",
    "tests/test_definition.py::test_registers_pending_manual_approval_with_baselines_and_tags",
    "tests/test_run_cloud.py::test_run_reads_wiring_uploads_code_upserts_and_starts",
    "tests/test_registry_cloud.py::test_list_shows_versions_newest_first",
    "tests/test_registry_cloud.py::test_approve_latest_records_reason",
    "tests/contracts/test_request_shapes.py::test_step_requests_are_valid_at_the_longest_project_and_stage",
    "tests/contracts/test_request_shapes.py::test_create_pipeline_request_is_valid_at_the_longest_names",
)
WORKERS = max(1, min(4, os.cpu_count() or 1))


def run_fast_tests(project: Path) -> subprocess.CompletedProcess[str]:
    """The fast tests, run inside the generated repo with this checkout's Python (the same lock)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(project / ".pytest-tmp"),
         *FAST_TESTS],
        cwd=project, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def fast_test_runs(matrix_renders) -> dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {label: pool.submit(run_fast_tests, project) for label, project in matrix_renders.items()}
        return {label: future.result() for label, future in futures.items()}


def test_the_matrix_covers_the_catalog_and_every_input_value():
    assert len({row.label for row in matrix_rows()}) == len(matrix_rows()), "test ids must be unique"
    rows = [row.inputs for row in matrix_rows()]
    assert {r["problem_type"] for r in rows} == set(PROBLEM_TYPES)
    assert {(r["problem_type"], r["primary_metric"]) for r in rows} == {
        (problem_type, name) for problem_type, by_name in METRIC_SPECS.items() for name in by_name}
    pairs = {(r["aws_region"], r["use_spot"], r["source_provider"]) for r in rows}
    assert {(region, spot) for region, spot, _ in pairs} >= {(region, spot) for region in ("eu-west-1", "us-east-1",
                                                             "ap-southeast-2") for spot in ("yes", "no")}
    assert len(rows) <= 2 * sum(map(len, METRIC_SPECS.values())), "the matrix grew past its time budget"


@pytest.mark.parametrize("row", matrix_rows(), ids=lambda row: row.label)
def test_generated_repo_passes_its_fast_tests(row, fast_test_runs):
    result = fast_test_runs[row.label]
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"{row.label}: the generated repo's fast tests failed:\n{tail}"
    last = result.stdout.strip().splitlines()[-1]
    assert " passed" in last and "failed" not in last and "error" not in last, tail
