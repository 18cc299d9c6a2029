"""Processing steps: a processing job's container command, run in a sandbox per instance.

Inputs are placed at their LocalPath, ContainerEntrypoint + ContainerArguments run with
`python3` as the step interpreter (EngineSettings.step_python), and each output's LocalPath is
uploaded to its S3Uri when the command exits 0. Code that calls S3 itself finds the object store through
`ML_FACTORY_LOCAL_S3`. A non-zero exit fails the step with the job's failure file
(`/opt/ml/processing/output/failure`) or its last stderr line as the reason.

With InstanceCount N the command runs as N processes side by side (`ProcessingHosts`), as on N
instances: each gets its share of a ShardedByS3Key input and all of a FullyReplicated one, and
`/opt/ml/config/resourceconfig.json` naming it and the job's hosts; every instance's outputs are
uploaded to the same S3 prefixes (a key written twice keeps the later copy, as in S3).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.engine.hosts import (
    failed_host,
    free_port,
    host_names,
    host_reason,
    keep_share,
    peak_memory,
    run_side_by_side,
    tracker_variables,
)
from pipelines.engine.process import JobProcess, ProcessResult, failure_reason
from pipelines.engine.sandbox import Sandbox
from pipelines.engine.step_job import StepFailed, StepJob, StepResult
from pipelines.engine.store import StoreError

FAILURE_FILE = "/opt/ml/processing/output/failure"
SHARDED = "ShardedByS3Key"
# Where the store is, for step code that reads and writes S3 itself (seedcode/object_uris.py), as in a job
# whose role reaches S3: s3://<bucket>/<key> is <folder>/<bucket>/<key>.
LOCAL_STORE_ENV = "ML_FACTORY_LOCAL_S3"


def output_specs(arguments: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(OutputName, S3Uri, LocalPath) of each S3 output."""
    specs = []
    for item in (arguments.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        output = item.get("S3Output")
        if isinstance(output, dict):
            specs.append((item.get("OutputName", "?"), output["S3Uri"], output["LocalPath"]))
    return specs


def job_times(started: datetime) -> dict[str, str]:
    return {"ProcessingStartTime": started.isoformat(), "ProcessingEndTime": datetime.now(UTC).isoformat()}


@dataclass
class ProcessingHosts:
    """The instances of one processing job: the first is the job's sandbox, the others `<step>/hosts/algo-N`."""

    job: StepJob
    names: list[str]
    sandboxes: list[Sandbox]
    tracker_port: int

    @classmethod
    def of(cls, job: StepJob) -> ProcessingHosts:
        names = host_names(job.arguments)
        first = job.sandbox()
        others = [Sandbox(first.step_dir / "hosts" / name, first.python) for name in names[1:]]
        return cls(job, names, [first, *others], free_port() if len(names) > 1 else 0)

    @property
    def first(self) -> Sandbox:
        return self.sandboxes[0]

    def prepare(self, job_name: str, dealt: Collection[str] = ()) -> None:
        """Inputs, output folders and /opt/ml/config on every instance. Inputs named in `dealt` are dealt
        out like ShardedByS3Key ones (the engine playing an image that splits its input itself)."""
        arguments = self.job.arguments
        for index, (name, sandbox) in enumerate(zip(self.names, self.sandboxes, strict=True)):
            self.place_inputs(sandbox, (index, len(self.names)), dealt)
            for _, _, local in output_specs(arguments):
                shutil.rmtree(sandbox.local(local), ignore_errors=True)
                sandbox.local(local).mkdir(parents=True, exist_ok=True)
            config = sandbox.local("/opt/ml/config")
            config.mkdir(parents=True, exist_ok=True)
            (config / "processingjobconfig.json").write_text(
                json.dumps({**arguments, "ProcessingJobName": job_name}, indent=2, default=str))
            (config / "resourceconfig.json").write_text(json.dumps(
                {"current_host": name, "hosts": self.names, "current_instance_type": "local",
                 "current_group_name": "homogeneousCluster"}))

    def place_inputs(self, sandbox: Sandbox, share: tuple[int, int], dealt: Collection[str]) -> None:
        """Put each S3 input at its LocalPath, as a File-mode processing job does (instance `share[0]` of
        `share[1]` keeps its share of a sharded one)."""
        for item in self.job.arguments.get("ProcessingInputs") or []:
            name = item.get("InputName", "?")
            source = item.get("S3Input")
            if not isinstance(source, dict):
                raise StepFailed(f"processing input {name!r} is not an S3Input (e.g. a DatasetDefinition); "
                                 "the local engine supports S3 inputs only")
            local = sandbox.local(source.get("LocalPath", f"/opt/ml/processing/input/{name}"))
            shutil.rmtree(local, ignore_errors=True)  # a new instance starts empty
            try:
                self.job.store.get_tree(source["S3Uri"], local)
            except StoreError as exc:
                raise StepFailed(f"input {name!r}: {exc}") from None
            if local.is_dir() and (source.get("S3DataDistributionType") == SHARDED or name in dealt):
                keep_share(local, *share)

    def run(self, commands: list[list[str]], environments: list[dict[str, str]],
            label: str) -> list[tuple[str, ProcessResult]]:
        """Each instance's command with its environment (plus where the tracker listens), side by side."""
        limit = (self.job.arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        tracker = tracker_variables(self.names, self.tracker_port)
        processes = [(name, JobProcess(command, sandbox.environment({**environment, **tracker}), cwd=sandbox.root,
                                       log_dir=sandbox.logs, label=label))
                     for name, sandbox, command, environment
                     in zip(self.names, self.sandboxes, commands, environments, strict=True)]
        return run_side_by_side(processes, float(limit) if limit else None, self.job.settings.spot_grace_seconds)

    def failure(self, results: list[tuple[str, ProcessResult]]) -> str | None:
        """The job's FailureReason (see hosts.failed_host), or None when every instance succeeded."""
        found = failed_host(results)
        if found is None:
            return None
        name, result, lost = found
        if lost:
            return (f"processing instance {name} of {len(self.names)} was killed ({result.killed_by}); "
                    "run the pipeline again")
        limit = (self.job.arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        sandbox = self.sandboxes[self.names.index(name)]
        return host_reason(name, len(self.names), failure_reason(result, sandbox.local(FAILURE_FILE), limit))

    def upload_outputs(self) -> list[str]:
        written: list[str] = []
        for sandbox in self.sandboxes:
            for _, uri, local in output_specs(self.job.arguments):
                if any(sandbox.local(local).rglob("*")) or sandbox is self.first:
                    written += self.job.store.put_tree(uri, sandbox.local(local))
        return sorted(set(written))


def run_processing(job: StepJob) -> StepResult:
    arguments = job.arguments
    started = datetime.now(UTC)
    job_name = job.execution.job_name(job.name)
    app = arguments.get("AppSpecification") or {}
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if not entrypoint:
        raise StepFailed(f"the processing job has no ContainerEntrypoint (it relies on the image "
                         f"{app.get('ImageUri', '?')}'s own entrypoint); the local engine runs script steps only")
    hosts = ProcessingHosts.of(job)
    hosts.prepare(job_name)
    argv = entrypoint + [str(a) for a in app.get("ContainerArguments") or []]
    environment = {**{str(k): str(v) for k, v in (arguments.get("Environment") or {}).items()},
                   LOCAL_STORE_ENV: str(job.store.root.resolve())}
    results = hosts.run([sandbox.command(argv) for sandbox in hosts.sandboxes], [environment] * len(hosts.names),
                        "processing")
    properties = {
        **arguments,
        "ProcessingJobName": job_name,
        "ProcessingJobArn": job.execution.job_arn("processing-job", job_name),
        **job_times(started),
    }
    facts = {"job_name": job_name, "logs": str(hosts.first.logs), **peak_memory(dict(results))}
    reason = hosts.failure(results)
    if reason is not None:
        code = next(result.returncode for _, result in results if result.returncode != 0)
        properties.update(ProcessingJobStatus="Failed", FailureReason=reason, ExitCode=code)
        raise StepFailed(reason, facts, properties)
    written = hosts.upload_outputs()
    properties["ProcessingJobStatus"] = "Completed"
    return StepResult(properties, facts, written)
