"""A config with several training instances runs locally: Preprocess shards the training split and the
local engine's one training process reads every shard (the collective itself: tests/seedcode)."""

from __future__ import annotations

import pytest
from local_project import ROWS, Project, small_config, write_project


@pytest.fixture(scope="module")
def sharded_run(tmp_path_factory, team_config):
    project = Project(tmp_path_factory.mktemp("sharded"))
    table = small_config(team_config)
    table["training"]["instance_count"] = 2
    write_project(project.folder, table)
    return project, project.run("--rows", ROWS)


def test_two_training_instances_shard_the_training_split_and_train_on_all_of_it(sharded_run):
    project, run = sharded_run
    assert run.code == 0, run.stderr
    channels = [folder for folder in project.state.rglob("input/data/train") if folder.is_dir()]
    assert channels, "the training job got no train channel"
    for channel in channels:  # ShardedByS3Key's one local host gets every shard and no schema file
        assert sorted(p.name for p in channel.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
