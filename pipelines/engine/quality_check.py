"""QualityCheck steps (DATA_QUALITY): the engine plays SageMaker Model Monitor's analyzer.

The analyzer is seedcode/data_quality.py from the uploaded code bundle, run as a file. Semantics
follow QualityCheckStep:
  SkipCheck true        profile only (statistics.json, constraints.json), no comparison
  otherwise             compare with SuppliedBaselineStatistics/Constraints when given, else with the
                        DriftCheckBaselines of the latest Approved package in ModelPackageGroupName;
                        with neither the step fails (bootstrap with SkipDataQualityCheck=true and
                        RegisterNewDataQualityBaseline=true)
  FailOnViolation       violations fail the step (not when SkipCheck)
Properties: CalculatedBaselineStatistics/Constraints are the new files; BaselineUsedForDriftCheck*
are the new files when RegisterNewBaseline, else the baseline compared with.

With InstanceCount N (Model Monitor's analyzer is a Spark job that splits its input across its
instances itself) the engine runs N analyzer processes, deals the dataset's files out among them
like a ShardedByS3Key input, and they merge their partial statistics over XGBoost's collective
(seedcode/cluster.py); the first writes the files, the same bytes as one pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.definition import PARAM_REGISTER_BASELINE, PARAM_SKIP_CHECK
from pipelines.engine.graph import StepNode
from pipelines.engine.hosts import peak_memory
from pipelines.engine.processing import ProcessingHosts, output_specs
from pipelines.engine.sandbox import Sandbox
from pipelines.engine.step_job import StepFailed, StepJob, StepResult
from pipelines.engine.store import StoreError
from pipelines.registry_model import Registry, latest_approved

ANALYZER_SCRIPT = "data_quality.py"
BASELINE_STATISTICS = "/opt/ml/processing/baseline/stats/statistics.json"
BASELINE_CONSTRAINTS = "/opt/ml/processing/baseline/constraints/constraints.json"
NEW_BASELINE_PARAMS = f"--param {PARAM_SKIP_CHECK}=true --param {PARAM_REGISTER_BASELINE}=true"
BOOTSTRAP_HINT = f"run with {NEW_BASELINE_PARAMS} to register a first baseline, or approve a model version that has one"
ACCEPT_HINT = (f"if the change is expected, accept this data as the new baseline on purpose: run again with "
               f"{NEW_BASELINE_PARAMS}, then approve the version it registers")
LISTED_FEATURES = 8


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def plan_check(node: StepNode, resolve: Callable[[Any], Any], registry: Registry) -> dict[str, Any]:
    """What the step will compare with; worked out before the cache lookup, since it is part of the key."""
    spec = node.spec
    group = resolve(spec.get("ModelPackageGroupName"))
    supplied = (resolve(spec.get("SuppliedBaselineStatistics")), resolve(spec.get("SuppliedBaselineConstraints")))
    baseline: dict[str, Any] | None = None
    if any(supplied):
        baseline = {"source": "supplied", "statistics": supplied[0], "constraints": supplied[1]}
    elif group:
        approved = latest_approved(registry, group)
        if approved is not None:
            quality = approved.drift_check_baselines.get("ModelDataQuality") or {}
            baseline = {
                "source": f"approved version {approved.version} of {group!r}", "version": approved.version,
                "statistics": (quality.get("Statistics") or {}).get("S3Uri"),
                "constraints": (quality.get("Constraints") or {}).get("S3Uri"),
            }
    return {
        "skip_check": _flag(resolve(spec.get("SkipCheck")), False),
        "register_new_baseline": _flag(resolve(spec.get("RegisterNewBaseline")), False),
        "fail_on_violation": _flag(resolve(spec.get("FailOnViolation")), True),
        "model_package_group": group,
        "baseline": baseline,
    }


def _feature_summary(statistics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per feature: type, missing share and the headline numbers of a statistics.json."""
    total = (statistics.get("dataset") or {}).get("item_count") or 0
    rows: dict[str, dict[str, Any]] = {}
    for feature in statistics.get("features") or []:
        block = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        common = block.get("common") or {}
        missing = common.get("num_missing", 0)
        row: dict[str, Any] = {"type": feature.get("inferred_type"),
                               "missing": round(missing / total, 4) if total else None}
        if "numerical_statistics" in feature:
            row.update(mean=block.get("mean"), std=block.get("std_dev"), min=block.get("min"), max=block.get("max"))
        else:
            buckets = ((block.get("distribution") or {}).get("categorical") or {}).get("buckets") or []
            present = common.get("num_present") or 0
            row.update(distinct=block.get("distinct_count"),
                       top=buckets[0]["value"] if buckets else None,
                       top_share=round(buckets[0]["count"] / present, 4) if buckets and present else None)
        rows[feature.get("name")] = row
    return rows


def drift_table(current: dict[str, Any], baseline: dict[str, Any] | None,
                violations: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One row per feature: current vs baseline numbers and the checks it violated."""
    now, before = _feature_summary(current), _feature_summary(baseline or {})
    details: dict[str, list[dict[str, str]]] = {}
    for violation in violations:
        details.setdefault(violation.get("feature_name", "?"), []).append(
            {"check": violation.get("constraint_check_type", "?"), "description": violation.get("description", "")})
    table = []
    for name in list(now) + [n for n in before if n not in now] + [n for n in details if n not in now and
                                                                   n not in before]:
        found = details.get(name, [])
        table.append({"feature": name, "current": now.get(name), "baseline": before.get(name),
                      "violations": sorted({d["check"] for d in found}), "violation_details": found})
    return table


def violation_message(violations: list[dict[str, str]], baseline: dict[str, Any], report_uri: str) -> str:
    by_check: dict[str, list[str]] = {}
    for violation in violations:
        by_check.setdefault(violation.get("constraint_check_type", "?"), []).append(violation.get("feature_name", "?"))
    parts = []
    for check, features in sorted(by_check.items()):
        shown = ", ".join(features[:LISTED_FEATURES]) + (f" and {len(features) - LISTED_FEATURES} more"
                                                         if len(features) > LISTED_FEATURES else "")
        parts.append(f"{check} on {shown}")
    return (f"data quality check failed: {len(violations)} violation(s) against the baseline of "
            f"{baseline['source']}: {'; '.join(parts)} (details: {report_uri}); {ACCEPT_HINT}")


def baseline_problem(plan: dict[str, Any]) -> str | None:
    """Why a check cannot run, or None."""
    baseline = plan["baseline"]
    if baseline is None:
        return (f"no drift baseline to check against: model package group {plan['model_package_group']!r} has no "
                f"approved version and the step supplies no baseline; {BOOTSTRAP_HINT}")
    if baseline.get("statistics") and baseline.get("constraints"):
        return None
    if baseline["source"] == "supplied":
        return "a check needs both SuppliedBaselineStatistics and SuppliedBaselineConstraints"
    return (f"{baseline['source']} has no DriftCheckBaselines.ModelDataQuality statistics and constraints to "
            f"check against; {BOOTSTRAP_HINT}")


def run_quality_check(job: StepJob) -> StepResult:
    plan = job.prepared["quality_check"]
    arguments = job.arguments
    hosts = ProcessingHosts.of(job)
    started = datetime.now(UTC)
    job_name = job.execution.job_name(job.name)
    environment = {str(k): str(v) for k, v in (arguments.get("Environment") or {}).items()}
    facts: dict[str, Any] = {"job_name": job_name, "logs": str(hosts.first.logs)}
    skip = plan["skip_check"]
    if not skip:
        problem = baseline_problem(plan)
        if problem:
            raise StepFailed(problem, facts)

    dataset = environment.get("dataset_source", "/opt/ml/processing/input/baseline_dataset_input")
    hosts.prepare(job_name, dealt=[item.get("InputName") for item in arguments.get("ProcessingInputs") or []
                                   if (item.get("S3Input") or {}).get("LocalPath") == dataset])
    commands = [analyzer_command(job, sandbox, environment) for sandbox in hosts.sandboxes]
    results = hosts.run(commands, [environment] * len(hosts.names), "analyzer")
    facts.update(peak_memory(dict(results)))
    output = environment.get("output_path", "/opt/ml/processing/output")
    properties: dict[str, Any] = {
        **arguments, "ProcessingJobName": job_name,
        "ProcessingJobArn": job.execution.job_arn("processing-job", job_name),
        "ProcessingStartTime": started.isoformat(), "ProcessingEndTime": datetime.now(UTC).isoformat(),
    }
    reason = hosts.failure(results)
    if reason is not None:
        properties.update(ProcessingJobStatus="Failed", FailureReason=reason)
        raise StepFailed(reason, facts, properties)

    written = hosts.upload_outputs()
    output_uri = next((uri for _, uri, local in output_specs(arguments) if local == output),
                      output_specs(arguments)[0][1] if output_specs(arguments) else "").rstrip("/")
    calculated = {"statistics": f"{output_uri}/statistics.json", "constraints": f"{output_uri}/constraints.json"}
    baseline = plan["baseline"]
    used = calculated if plan["register_new_baseline"] or baseline is None else baseline
    properties.update(
        ProcessingJobStatus="Completed",
        CalculatedBaselineStatistics=calculated["statistics"],
        CalculatedBaselineConstraints=calculated["constraints"],
        BaselineUsedForDriftCheckStatistics=used["statistics"],
        BaselineUsedForDriftCheckConstraints=used["constraints"],
    )
    facts["drift"] = drift_facts(plan, hosts.first, hosts.first.local(output), output_uri)
    violations = facts["drift"]["violations"]
    if violations and plan["fail_on_violation"] and not skip:
        reason = violation_message(violations, baseline, facts["drift"]["violations_report"])
        properties.update(ProcessingJobStatus="Failed", FailureReason=reason)
        raise StepFailed(reason, facts, properties)
    return StepResult(properties, facts, written)


def analyzer_command(job: StepJob, sandbox: Sandbox, environment: dict[str, str]) -> list[str]:
    """The analyzer's command line on one instance, its code fetched from the bundle and, for a check, the
    baseline placed; `environment` gains the baseline variables the container would see."""
    plan = job.prepared["quality_check"]
    analyzer = sandbox.step_dir / "analyzer"
    try:
        job.store.get_tree(job.settings.analyzer_code_uri or "", analyzer)
    except StoreError as exc:
        raise StepFailed(f"the data-quality analyzer code is missing: {exc}") from None
    if not (analyzer / ANALYZER_SCRIPT).is_file():
        raise StepFailed(f"the code bundle has no {ANALYZER_SCRIPT}, which the local engine runs as the "
                         "Model Monitor analyzer")

    dataset = environment.get("dataset_source", "/opt/ml/processing/input/baseline_dataset_input")
    output = environment.get("output_path", "/opt/ml/processing/output")
    dataset_format = json.loads(environment.get("dataset_format") or "{}")
    argv = [str(sandbox.python), str(analyzer / ANALYZER_SCRIPT), "--dataset", str(sandbox.local(dataset)),
            "--output", str(sandbox.local(output))]
    if "csv" in dataset_format and not dataset_format["csv"].get("header", True):
        argv.append("--no-header")
    if plan["skip_check"]:
        return argv
    baseline = plan["baseline"]
    for uri, path, variable, flag in ((baseline["statistics"], BASELINE_STATISTICS, "baseline_statistics",
                                       "--baseline-statistics"),
                                      (baseline["constraints"], BASELINE_CONSTRAINTS, "baseline_constraints",
                                       "--baseline-constraints")):
        local = sandbox.local(path)
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(job.store.read_bytes(uri))
        except StoreError as exc:
            raise StepFailed(f"the drift baseline of {baseline['source']} cannot be read: {exc}") from None
        environment[variable] = path
        argv += [flag, str(local)]
    return argv


def drift_facts(plan: dict[str, Any], sandbox: Sandbox, local_output: Path, output_uri: str) -> dict[str, Any]:
    """The step's drift record for the summary and report: status, baseline, violations, per-feature table."""
    skip, baseline = plan["skip_check"], plan["baseline"]
    violations: list[dict[str, str]] = []
    if not skip:
        report = local_output / "constraint_violations.json"
        violations = json.loads(report.read_text()).get("violations", []) if report.is_file() else []
    current = _read_json(local_output / "statistics.json")
    compared = _read_json(sandbox.local(BASELINE_STATISTICS)) if not skip else None
    return {
        "status": "skipped" if skip else ("violations" if violations else "passed"),
        "baseline": None if skip else {k: baseline.get(k) for k in ("source", "version", "statistics", "constraints")
                                       if baseline.get(k) is not None},
        "register_new_baseline": plan["register_new_baseline"],
        "violations": violations,
        "statistics": f"{output_uri}/statistics.json",
        "violations_report": f"{output_uri}/constraint_violations.json" if not skip else None,
        "features": drift_table(current, compared, violations),
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
