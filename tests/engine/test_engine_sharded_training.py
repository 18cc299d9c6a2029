"""A config with several training and data-quality instances runs locally as SageMaker runs it: Preprocess
shards the training split and the baseline, each host process gets its ShardedByS3Key share and the host
list, and XGBoost's tracker joins them on 127.0.0.1: into one model, and into one set of statistics.

One project runs twice. First with a simulated Spot interruption (both hosts stop and resume from the same
checkpoint), then a host killed later in training: the step fails naming it. Then the retry of that
execution: training resumes from the newer checkpoint on both hosts and finishes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from local_project import CHECKPOINT_EVERY, NUM_ROUND, ROWS, Project, small_config, store_path, write_project

INTERRUPTED_AFTER = CHECKPOINT_EVERY + 2  # a checkpoint exists, and rounds after it are lost
KILLED_AFTER = 2 * CHECKPOINT_EVERY + 2


@pytest.fixture(scope="module")
def sharded_runs(tmp_path_factory, team_config):
    """(project, the failed run and its Train hosts' last-attempt logs, the retried run)."""
    project = Project(tmp_path_factory.mktemp("sharded"))
    table = small_config(team_config)
    table["training"]["instance_count"] = 2
    table.setdefault("processing", {})["instance_count"] = 2
    table["tracking"] = {"uri": "none"}  # not what these tests are about; saves seconds per run
    write_project(project.folder, table)
    failed = project.run("--rows", ROWS, "--simulate-spot-interruption", str(INTERRUPTED_AFTER),
                         "--simulate-host-failure", str(KILLED_AFTER))
    logs = {host: _log(root, host) for host, root in _hosts(failed, "Train").items()}
    return project, failed, logs, project.run("--retry", "last")


def _hosts(run, step: str) -> dict[str, Path]:
    """Each host's /opt/ml of a run's step, by host name (from its resourceconfig.json)."""
    logs = Path(next(s for s in run.summary["steps"] if s["name"] == step)["logs"])
    return {json.loads(path.read_text())["current_host"]: path.parents[2 if path.parent.parent.name == "input" else 1]
            for path in logs.parent.rglob("resourceconfig.json")}


def _log(root: Path, host: str) -> str:
    """A host's stdout log of the job's last attempt."""
    logs = root.parent / "logs"
    return (max(logs.glob("attempt*.stdout.log")) if host == "algo-1" else logs / f"{host}.stdout.log").read_text()


def test_two_training_instances_train_one_model_from_one_shard_each(sharded_runs, first_run):
    _, _, _, run = sharded_runs
    assert run.code == 0, run.stderr
    hosts = _hosts(run, "Train")
    assert sorted(hosts) == ["algo-1", "algo-2"]
    shards = [sorted(p.name for p in (root / "input" / "data" / "train").iterdir()) for root in hosts.values()]
    assert sorted(shards) == [["part-00000.parquet"], ["part-00001.parquet"]]
    assert f"round={NUM_ROUND}/{NUM_ROUND}" in _log(hosts["algo-2"], "algo-2")
    assert not any((hosts["algo-2"] / "model").iterdir())  # the first host writes the model
    one_host, two_hosts = _gate_metric(first_run[1].summary), _gate_metric(run.summary)
    assert two_hosts == pytest.approx(one_host, abs=0.03), (one_host, two_hosts)


def test_a_spot_interruption_stops_both_hosts_and_both_resume_from_the_same_checkpoint(sharded_runs):
    _, failed, logs, _ = sharded_runs
    spot = failed.summary["spot"]
    # the stop lands when the engine reads round 7's line: a loaded machine may finish a round or two first
    interrupted, resumed = spot["interrupted_at_round"], spot["resumed_from_round"]
    assert interrupted >= INTERRUPTED_AFTER, spot
    assert resumed % CHECKPOINT_EVERY == 0 and interrupted - CHECKPOINT_EVERY <= resumed <= interrupted, spot
    for log in logs.values():  # both hosts from the same, newest checkpoint
        assert f"resumed from checkpoint round={resumed}" in log


def test_a_killed_host_fails_the_step_naming_it_and_the_retry_resumes_from_the_checkpoint(sharded_runs):
    _, failed, _, retried = sharded_runs
    execution = failed.summary["execution_id"]
    assert failed.code == 1 and failed.summary["failed_step"] == "Train"
    reason = failed.summary["failure_reason"]
    killed = re.search(r"training host algo-2 of 2 was killed \(SIGKILL, peak memory \d+ MB\) after round (\d+)",
                       reason)
    assert killed and int(killed.group(1)) >= KILLED_AFTER, reason  # it may finish a round before the signal lands
    saved = 2 * CHECKPOINT_EVERY
    assert f"resume from the checkpoint of round {saved}" in reason
    assert f"python -m pipelines.run --local --retry {execution}" in reason
    assert "Traceback" not in failed.stderr

    assert retried.code == 0, retried.stderr
    assert retried.summary["execution_id"] == execution  # the same execution, so the same checkpoint prefix
    steps = {step["name"]: step for step in retried.summary["steps"]}
    assert steps["Preprocess"]["cache"]["source_execution_id"] == execution  # kept, not run again
    for host, root in _hosts(retried, "Train").items():
        log = _log(root, host)
        assert f"resumed from checkpoint round={saved}" in log and f"round={saved + 1}/" in log
    assert set(steps["Train"]["peak_memory_mb"]) == {"algo-1", "algo-2"}


def test_two_data_quality_instances_merge_into_the_statistics_of_one(sharded_runs, first_run):
    project, failed, _, _ = sharded_runs
    hosts = _hosts(failed, "DataQualityCheck")
    assert sorted(hosts) == ["algo-1", "algo-2"]
    shares = [sorted(p.name for p in (root / "processing" / "input" / "baseline_dataset_input").iterdir())
              for root in hosts.values()]
    assert sorted(shares) == [["part-00000.csv"], ["part-00001.csv"]]
    two = store_path(project, failed.summary["drift"]["statistics"]).read_bytes()
    one_project, one_run = first_run
    assert two == store_path(one_project, one_run.summary["drift"]["statistics"]).read_bytes()


def _gate_metric(summary: dict) -> float:
    check = next(step for step in summary["steps"] if step["name"] == "CheckMetric")
    return float(check["conditions"][0].split()[0])
