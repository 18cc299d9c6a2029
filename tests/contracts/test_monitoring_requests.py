"""The monitoring pipeline's requests and the native schedule's, checked against botocore's service model at the
longest project name and stage (lengths, patterns, enums): what the service would refuse fails here."""

from __future__ import annotations

import contract_longest
from contract_shapes import request_problems

from pipelines.monitoring import names
from pipelines.registry_model import PackageVersion


def test_the_drift_and_model_quality_requests_and_the_pipeline_upsert_are_valid_at_the_longest_names() -> None:
    config, wiring = contract_longest.longest_config(), contract_longest.longest_wiring()
    built = contract_longest.longest_monitoring_pipeline()
    requests = contract_longest.longest_monitoring_requests()
    assert [(r.step, r.operation) for r in requests] == [(names.STEP_DRIFT, "CreateProcessingJob"),
                                                         (names.STEP_MODEL_QUALITY, "CreateProcessingJob")]
    problems = [p for r in requests for p in request_problems(r.service, r.operation, r.params)]
    problems += request_problems("sagemaker", "CreatePipeline", {
        "PipelineName": names.monitor_pipeline_name(config.project, config.stage), "PipelineDefinition":
        built.definition, "RoleArn": wiring.role_arn, "PipelineDescription": f"{config.project_name} "
        f"({config.stage}): drift of {config.project}-{config.stage}, built by ML Factory",
        "Tags": [{"Key": k, "Value": v} for k, v in config.tags.items()]})
    assert not problems, "\n".join(problems)


def test_the_native_schedule_requests_are_valid_at_the_longest_names() -> None:
    from pipelines.monitoring.native import ScheduleState, schedule_plan
    from pipelines.serving.plan import DeployTarget

    config, wiring = contract_longest.longest_config(), contract_longest.longest_wiring()
    served = contract_longest.longest_served_baselines()
    package = PackageVersion(wiring.model_package_group, contract_longest.MONITORED_VERSION, served.package_arn,
                             "Approved", "")
    image = f"468650794304.dkr.ecr.{config.aws_region}.amazonaws.com/sagemaker-model-monitor-analyzer"
    plan = schedule_plan(DeployTarget(config, wiring, package), served, image, ScheduleState())
    assert [call.operation for call in plan] == ["CreateDataQualityJobDefinition", "CreateMonitoringSchedule"]
    problems = [p for call in plan for p in request_problems(call.service, call.operation, call.params)]
    assert not problems, "\n".join(problems)
