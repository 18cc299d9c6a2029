"""A config with several training instances runs locally as SageMaker runs it: Preprocess shards the
training split, each host process gets its ShardedByS3Key share and the host list, and XGBoost's
tracker joins them on 127.0.0.1 into one model."""

from __future__ import annotations

import json

import pytest
from local_project import ROWS, Project, small_config, write_project


@pytest.fixture(scope="module")
def sharded_run(tmp_path_factory, team_config):
    project = Project(tmp_path_factory.mktemp("sharded"))
    table = small_config(team_config)
    table["training"]["instance_count"] = 2
    write_project(project.folder, table)
    return project, project.run("--rows", ROWS)


def test_two_training_instances_train_one_model_from_one_shard_each(sharded_run, first_run):
    project, run = sharded_run
    assert run.code == 0, run.stderr
    configs = sorted(project.state.rglob("input/config/resourceconfig.json"))
    hosts = {json.loads(path.read_text())["current_host"]: path.parents[2] for path in configs}
    assert sorted(hosts) == ["algo-1", "algo-2"]
    shards = [sorted(p.name for p in (root / "input" / "data" / "train").iterdir()) for root in hosts.values()]
    assert sorted(shards) == [["part-00000.parquet"], ["part-00001.parquet"]]
    second_log = (hosts["algo-2"].parent / "logs" / "algo-2.stdout.log").read_text()
    assert f"round={project.config.training.num_round}/{project.config.training.num_round}" in second_log
    assert not any((hosts["algo-2"] / "model").iterdir())  # the first host writes the model
    one_host, two_hosts = _gate_metric(first_run[1].summary), _gate_metric(run.summary)
    assert two_hosts == pytest.approx(one_host, abs=0.03), (one_host, two_hosts)


def _gate_metric(summary: dict) -> float:
    check = next(step for step in summary["steps"] if step["name"] == "CheckMetric")
    return float(check["conditions"][0].split()[0])
