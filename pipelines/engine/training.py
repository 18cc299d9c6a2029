"""Training steps in script mode, as the SageMaker XGBoost framework container runs them.

The training toolkit's contract: channels at `/opt/ml/input/data/<channel>` (SM_CHANNEL_<NAME>),
`/opt/ml/input/config/hyperparameters.json` (every value a string), SM_HPS, SM_MODEL_DIR,
SM_OUTPUT_DATA_DIR, SM_CHANNELS, SM_CURRENT_HOST, SM_HOSTS; the code from the hyperparameter
`sagemaker_submit_directory` (a sourcedir.tar.gz) extracted to `/opt/ml/code`, and
`python <sagemaker_program> --name value ...` with the user hyperparameters as arguments.
`/opt/ml/checkpoints` is synced with CheckpointConfig.S3Uri: downloaded before each attempt,
uploaded when it ends (also after an interruption). The model directory becomes
`<S3OutputPath>/<job name>/output/model.tar.gz`.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.code_bundle import reproducible_tar_gz
from pipelines.engine.expressions import to_text
from pipelines.engine.hosts import (
    HOST_FAILURE,
    OtherHost,
    failed_host,
    free_port,
    host_names,
    host_reason,
    host_variables,
    keep_share,
    peak_memory,
    sharded_channels,
)
from pipelines.engine.process import JobProcess, ProcessResult, failure_reason
from pipelines.engine.sandbox import Sandbox
from pipelines.engine.spot import RoundWatcher, SpotRecord
from pipelines.engine.step_job import StepFailed, StepJob, StepResult
from pipelines.engine.store import StoreError, link_or_copy

FAILURE_FILE = "/opt/ml/output/failure"
CHECKPOINT_DIR = "/opt/ml/checkpoints"
CURRENT_HOST = "algo-1"
SAGEMAKER_KEYS = ("sagemaker_program", "sagemaker_submit_directory", "sagemaker_container_log_level",
                  "sagemaker_job_name", "sagemaker_region")


def _decode(value: str) -> Any:
    """A hyperparameter as the toolkit reads it: JSON when it parses, else the text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def tar_directory(source: Path, target: Path) -> None:
    """The contents of `source` (names relative to it) as a reproducible tar.gz, written atomically."""
    files = {path.relative_to(source).as_posix(): path for path in source.rglob("*") if path.is_file()}
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
    temporary.write_bytes(reproducible_tar_gz(files))
    os.replace(temporary, target)


class TrainingRun:
    """One training step: the sandbox, the toolkit environment and the attempts."""

    def __init__(self, job: StepJob):
        self.job = job
        self.arguments = job.arguments
        self.sandbox: Sandbox = job.sandbox()
        self.job_name = job.execution.job_name(job.name)
        self.started = datetime.now(UTC)
        self.hyperparameters = {str(k): to_text(v) for k, v in (self.arguments.get("HyperParameters") or {}).items()}
        self.user_hyperparameters = {k: v for k, v in self.hyperparameters.items() if k not in SAGEMAKER_KEYS}
        self.root = self.sandbox.root
        self.code_dir = self.root / "code"
        checkpoint = self.arguments.get("CheckpointConfig") or {}
        self.checkpoint_uri: str | None = checkpoint.get("S3Uri")
        self.container_checkpoints = checkpoint.get("LocalPath") or CHECKPOINT_DIR
        self.checkpoint_dir = self.sandbox.local(self.container_checkpoints)
        self.hosts = host_names(self.arguments)
        self.tracker_port = free_port() if len(self.hosts) > 1 else 0
        self.others = [OtherHost(name, Sandbox(self.sandbox.step_dir / "hosts" / name, self.sandbox.python))
                       for name in self.hosts[1:]]

    # ---------------------------------------------------------------- setup

    def place_channels(self) -> list[str]:
        names = []
        for channel in self.arguments.get("InputDataConfig") or []:
            name = channel["ChannelName"]
            source = (channel.get("DataSource") or {}).get("S3DataSource")
            if not isinstance(source, dict):
                raise StepFailed(f"channel {name!r} is not an S3 data source; "
                                 "the local engine supports S3 channels only")
            roots = [self.root, *(host.sandbox.root for host in self.others)]
            for index, root in enumerate(roots):
                shutil.rmtree(root / "input" / "data" / name, ignore_errors=True)  # a new job's instance starts empty
                try:
                    self.job.store.get_tree(source["S3Uri"], root / "input" / "data" / name)
                except StoreError as exc:
                    raise StepFailed(f"channel {name!r}: {exc}") from None
                if name in sharded_channels(self.arguments):
                    keep_share(root / "input" / "data" / name, index, len(roots))
            names.append(name)
        return names

    def unpack_code(self) -> str:
        program = self.hyperparameters.get("sagemaker_program")
        if not program:
            image = (self.arguments.get("AlgorithmSpecification") or {}).get("TrainingImage", "?")
            raise StepFailed(f"no sagemaker_program hyperparameter: the job would run the built-in algorithm of "
                             f"{image}; the local engine runs script mode only")
        submit = self.hyperparameters.get("sagemaker_submit_directory", "")
        if submit.startswith("s3://"):
            archive = self.sandbox.step_dir / "sourcedir.tar.gz"
            try:
                link_or_copy(self.job.store.path(submit), archive)
            except OSError:
                raise StepFailed(f"sagemaker_submit_directory {submit} is not in the local object store") from None
        else:
            archive = self.sandbox.local(submit) if submit else Path()
        self.code_dir.mkdir(parents=True, exist_ok=True)
        if archive.is_file():
            try:
                with tarfile.open(archive, "r:*") as tar:
                    tar.extractall(self.code_dir, filter="data")
            except (tarfile.TarError, OSError) as exc:
                raise StepFailed(f"cannot extract sagemaker_submit_directory {submit}: {exc}") from None
        elif archive.is_dir():
            shutil.copytree(archive, self.code_dir, dirs_exist_ok=True)
        else:
            raise StepFailed(f"sagemaker_submit_directory {submit!r} does not exist in the job's inputs")
        if not (self.code_dir / program).is_file():
            raise StepFailed(f"sagemaker_program {program!r} is not in the submitted code ({submit})")
        return program

    def write_config(self, channels: list[str]) -> None:
        config = self.root / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(json.dumps(self.hyperparameters, indent=2))
        (config / "resourceconfig.json").write_text(json.dumps(
            {"current_host": CURRENT_HOST, "hosts": self.hosts, "network_interface_name": "eth0",
             "current_instance_type": "local", "current_group_name": "homogeneousCluster"}))
        (config / "inputdataconfig.json").write_text(json.dumps(
            {name: {"TrainingInputMode": "File", "S3DistributionType": "ShardedByS3Key"
                    if name in sharded_channels(self.arguments) else "FullyReplicated"} for name in channels}))
        for folder in ("model", "output/data"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        for host in self.others:
            host.configure(self.root, self.hosts)

    def user_arguments(self) -> list[str]:
        """`--name value` for every user hyperparameter, sorted, as the training toolkit passes them."""
        hyperparameters = self.user_hyperparameters
        return [item for key in sorted(hyperparameters) for item in (f"--{key}", hyperparameters[key])]

    def environment(self, channels: list[str], program: str, host: OtherHost | None = None) -> dict[str, str]:
        """The toolkit's variables of the first host, or of `host`."""
        sandbox = host.sandbox if host else self.sandbox
        root = sandbox.root
        user_args = self.user_arguments()
        hps = {key: _decode(value) for key, value in self.user_hyperparameters.items()}
        variables = {
            **{str(k): str(v) for k, v in (self.arguments.get("Environment") or {}).items()},
            "SM_MODEL_DIR": str(root / "model"),
            "SM_OUTPUT_DIR": str(root / "output"),
            "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
            "SM_INPUT_DIR": str(root / "input"),
            "SM_INPUT_CONFIG_DIR": str(root / "input" / "config"),
            "SM_INPUT_DATA_CONFIG": (root / "input" / "config" / "inputdataconfig.json").read_text(),
            "SM_CHANNELS": json.dumps(sorted(channels)),
            "SM_HPS": json.dumps(hps, sort_keys=True),
            "SM_USER_ARGS": json.dumps(user_args),
            "SM_USER_ENTRY_POINT": program,
            "SM_MODULE_NAME": program.removesuffix(".py"),
            "SM_MODULE_DIR": self.hyperparameters.get("sagemaker_submit_directory", ""),
            **host_variables(self.hosts, host.name if host else CURRENT_HOST, self.tracker_port),
            "SM_NETWORK_INTERFACE_NAME": "eth0",
            "SM_NUM_GPUS": "0",
            "SM_LOG_LEVEL": "20",
            "TRAINING_JOB_NAME": self.job_name,
            **{f"SM_CHANNEL_{name.upper()}": str(root / "input" / "data" / name) for name in channels},
            **{f"SM_HP_{key.upper()}": value for key, value in self.user_hyperparameters.items()},
        }
        return sandbox.environment(variables)

    def command(self, program: str) -> list[str]:
        return [str(self.sandbox.python), str(self.code_dir / program), *self.user_arguments()]

    # ---------------------------------------------------------------- checkpoints

    def download_checkpoints(self) -> None:
        """A (new) instance starts with the checkpoints in S3 and nothing else of the old one."""
        for folder in (self.checkpoint_dir, self.root / "model", self.root / "output"):
            shutil.rmtree(folder, ignore_errors=True)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "model").mkdir(parents=True, exist_ok=True)
        (self.root / "output" / "data").mkdir(parents=True, exist_ok=True)
        if self.checkpoint_uri:
            self.job.store.get_tree(self.checkpoint_uri, self.checkpoint_dir, required=False)

    def upload_checkpoints(self) -> None:
        if self.checkpoint_uri:
            self.job.store.put_tree(self.checkpoint_uri, self.checkpoint_dir)

    # ---------------------------------------------------------------- run

    def run(self) -> StepResult:
        channels = self.place_channels()
        program = self.unpack_code()
        self.write_config(channels)
        limit = (self.arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        facts: dict[str, Any] = {"job_name": self.job_name, "logs": str(self.sandbox.logs)}
        results, watcher, spot = self.run_attempts(channels, program, limit)
        if spot is not None:
            facts["spot"] = spot.to_dict()
        facts.update(peak_memory(dict(results)))

        ended = datetime.now(UTC)
        seconds = int(round((ended - self.started).total_seconds()))
        properties = {
            **self.arguments,
            "TrainingJobName": self.job_name,
            "TrainingJobArn": self.job.execution.job_arn("training-job", self.job_name),
            "TrainingStartTime": self.started.isoformat(),
            "TrainingEndTime": ended.isoformat(),
            "TrainingTimeInSeconds": seconds,
            "BillableTimeInSeconds": seconds,
            "HyperParameters": self.hyperparameters,
            "FinalMetricDataList": [{"MetricName": k, "Value": v} for k, v in watcher.last_metrics.items()],
        }
        reason = self.failure(results, watcher, limit)
        if reason is not None:
            properties.update(TrainingJobStatus="Failed", FailureReason=reason)
            raise StepFailed(reason, facts, properties)
        model_uri, written = self.upload_model()
        properties.update(TrainingJobStatus="Completed", SecondaryStatus="Completed",
                          ModelArtifacts={"S3ModelArtifacts": model_uri})
        facts["model"] = model_uri
        return StepResult(properties, facts, written)

    def run_attempts(self, channels: list[str], program: str,
                     limit: Any) -> tuple[list[tuple[str, ProcessResult]], RoundWatcher, SpotRecord | None]:
        """Run the job until an attempt ends other than by a (simulated) Spot interruption; the last
        attempt's result per host, the first host's round watcher, and the Spot record when an
        interruption was requested."""
        managed_spot = bool(self.arguments.get("EnableManagedSpotTraining"))
        requested = self.job.settings.spot_interruption_round
        spot = SpotRecord(requested, managed_spot) if requested is not None else None
        if spot is not None and not managed_spot:
            spot.note = "the training job does not use managed Spot (EnableManagedSpotTraining false): not interrupted"
        attempt = 0
        while True:
            attempt += 1
            self.download_checkpoints()
            stop_at = requested if spot is not None and managed_spot and attempt == 1 else None
            fail_at = self.job.settings.host_failure_round  # the first attempt to reach it (a kill ends the job)
            results, watcher = self.run_hosts(channels, program, limit, (stop_at, fail_at), attempt)
            self.upload_checkpoints()
            leader = results[0][1]
            interrupted = leader.stopped == "interrupted" and leader.returncode != 0  # not if it had just finished
            if spot is not None:
                spot.add_attempt(watcher, leader.seconds, interrupted)
            if not interrupted:
                break
            self.job.notify(f"Spot interruption after round {watcher.last_round}: checkpoints synced, restarting",
                            important=True)
        if spot is not None and stop_at is not None and not spot.to_dict()["interrupted"]:
            spot.note = f"training finished at round {watcher.last_round}, before round {requested}: not interrupted"
        return results, watcher, spot

    def run_hosts(self, channels: list[str], program: str, limit: Any, rounds: tuple[int | None, int | None],
                  attempt: int) -> tuple[list[tuple[str, ProcessResult]], RoundWatcher]:
        """One attempt on every host: stop all hosts after round `rounds[0]` (a Spot interruption takes the
        job's instances), kill the last host after round `rounds[1]` (a lost instance)."""
        stop_at, fail_at = rounds
        self.tracker_port = free_port() if len(self.hosts) > 1 else 0  # a stopped tracker's port may linger
        process = JobProcess(self.command(program), self.environment(channels, program), cwd=self.code_dir,
                             log_dir=self.sandbox.logs, label=f"attempt{attempt}")
        self.start_other_hosts(channels, program, limit, fail_at)
        processes = [process, *(host.process for host in self.others if host.process)]
        watcher = RoundWatcher(stop_at, lambda: [p.request_stop("interrupted") for p in processes], self._on_round)
        failure = RoundWatcher(fail_at if not self.others else None, lambda: process.kill_now(HOST_FAILURE))
        result = process.run(on_stdout=lambda line: (watcher(line), failure(line)),
                             timeout=float(limit) if limit else None,
                             grace_seconds=self.job.settings.spot_grace_seconds)
        others = [(host.name, host.finish()) for host in self.others]
        return [(CURRENT_HOST, result), *((name, r) for name, r in others if r is not None)], watcher

    def start_other_hosts(self, channels: list[str], program: str, limit: Any, fail_at: int | None) -> None:
        for host in self.others:
            host.reset(self.checkpoint_dir, self.container_checkpoints)
            argv = [str(host.sandbox.python), str(host.sandbox.root / "code" / program), *self.user_arguments()]
            host.start(argv, self.environment(channels, program, host), float(limit) if limit else None,
                       self.job.settings.spot_grace_seconds, fail_at if host is self.others[-1] else None)

    def failure(self, results: list[tuple[str, ProcessResult]], watcher: RoundWatcher, limit: Any) -> str | None:
        """The job's FailureReason, or None when every host succeeded (see hosts.failed_host)."""
        found = failed_host(results)
        if found is None:
            return None
        name, result, lost = found
        if lost:
            return self.lost_host_reason(name, result, watcher)
        sandbox = self.sandbox if name == CURRENT_HOST else next(h.sandbox for h in self.others if h.name == name)
        return host_reason(name, len(self.hosts), failure_reason(result, sandbox.local(FAILURE_FILE), limit))

    def lost_host_reason(self, name: str, result: ProcessResult, watcher: RoundWatcher) -> str:
        host_watcher = watcher if name == CURRENT_HOST else next(h.watcher for h in self.others if h.name == name)
        rounds = host_watcher.last_round if host_watcher else 0
        peak = f", peak memory {result.peak_memory_mb:.0f} MB" if result.peak_memory_mb else ""
        checkpoint = max(watcher.last_checkpoint, watcher.resumed_from or 0)
        resume = (f"resume from the checkpoint of round {checkpoint}" if checkpoint else
                  "start over (no checkpoint was written yet)")
        return (f"training host {name} of {len(self.hosts)} was killed ({result.killed_by}{peak}) after round "
                f"{rounds}; the other hosts lost the training collective. Retry the execution to {resume}: "
                f"python -m pipelines.run --local --retry {self.job.execution.execution_id}")

    def upload_model(self) -> tuple[str, list[str]]:
        """model.tar.gz (or the model folder, CompressionType NONE) and output.tar.gz, where SageMaker puts them."""
        output_config = self.arguments.get("OutputDataConfig") or {}
        output_path = str(output_config.get("S3OutputPath", "")).rstrip("/")
        if not output_path:
            raise StepFailed("OutputDataConfig.S3OutputPath is missing")
        prefix = f"{output_path}/{self.job_name}/output"
        written = []
        if output_config.get("CompressionType", "GZIP") == "NONE":
            model_uri = f"{prefix}/model/"
            written += self.job.store.put_tree(model_uri, self.root / "model")
        else:
            model_uri = f"{prefix}/model.tar.gz"
            tar_directory(self.root / "model", self.job.store.path(model_uri))
            written.append(model_uri)
        output_data = self.root / "output" / "data"
        if any(output_data.rglob("*")):
            tar_directory(output_data, self.job.store.path(f"{prefix}/output.tar.gz"))
            written.append(f"{prefix}/output.tar.gz")
        return model_uri, written

    def _on_round(self, done: int, total: int) -> None:
        if done == total or done % max(total // 20, 1) == 0:
            self.job.notify(f"round {done}/{total}")


def run_training(job: StepJob) -> StepResult:
    return TrainingRun(job).run()
