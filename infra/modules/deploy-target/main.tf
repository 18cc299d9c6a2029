# What a stage account (staging, prod) needs to receive deployments from the registry account's
# deploy pipeline (infra/modules/deploy-pipeline):
# - the deployer role `<project>-<stage>-deployer`, which `python -m pipelines.deploy --stage <stage>`
#   assumes from the registry account's deploy CodeBuild role, allowed only what a deploy, a
#   rollback and a smoke test call;
# - read access for the stage's SageMaker execution role (the endpoint's model role) to the
#   registry account's model artifacts (the registry's bucket and key policies grant the other half);
# - the CloudWatch alarms the endpoint's blue/green deployment rolls back on: 5XX errors and model
#   latency of the stage endpoint `<project>-<stage>`;
# - drift monitoring set up by the deployer (`python -m pipelines.monitor publish|schedule`, or a deploy
#   with monitoring.on_deploy): the monitoring pipeline `<project>-monitor-<stage>` and its step code, or
#   the native Model Monitor schedule `<project>-<stage>-drift` and its job definitions
#   (pipelines/monitoring/names.py).
# template_tests/test_iam_contract.py holds every grant here to a use (`role_policies` below).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = "${var.project}-${var.stage}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  arn_suffix = "${local.region}:${local.account_id}"

  endpoint_name         = local.name # pipelines.deploy: the stage endpoint is <project>-<stage>
  deployer_role_name    = "${local.name}-deployer"
  sagemaker_arn         = "arn:${local.partition}:sagemaker:${local.arn_suffix}"
  endpoint_arn          = "${local.sagemaker_arn}:endpoint/${local.endpoint_name}"
  models_arn            = "${local.sagemaker_arn}:model/${local.name}-*"
  endpoint_configs_arn  = "${local.sagemaker_arn}:endpoint-config/${local.name}-*"
  scalable_targets_arn  = "arn:${local.partition}:application-autoscaling:${local.arn_suffix}:scalable-target/*"
  alarms_arn            = "arn:${local.partition}:cloudwatch:${local.arn_suffix}:alarm:${local.name}-*"
  kms_keys_arn          = "arn:${local.partition}:kms:${local.arn_suffix}:key/*"
  wiring_parameters_arn = "arn:${local.partition}:ssm:${local.arn_suffix}:parameter/ml-factory/${var.project}/${var.stage}/*"
  execution_role_arn    = "arn:${local.partition}:iam::${local.account_id}:role/${var.model_execution_role_name}"
  autoscaling_slr_arn   = "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"

  # Drift monitoring (pipelines/monitoring/names.py): the portable pipeline and its step code, or the native schedule.
  monitor_pipeline_arn      = "${local.sagemaker_arn}:pipeline/${var.project}-monitor-${var.stage}"
  artifact_bucket_arn       = "arn:${local.partition}:s3:::${var.artifact_bucket_name}"
  step_code_arn             = "${local.artifact_bucket_arn}/${var.project}/code/*"
  monitoring_schedule_arn   = "${local.sagemaker_arn}:monitoring-schedule/${local.name}-drift"
  drift_job_definitions_arn = "${local.sagemaker_arn}:data-quality-job-definition/${local.name}-drift-*"

  registry_sagemaker_arn = "arn:${local.partition}:sagemaker:${local.region}:${var.registry_account_id}"
  registry_packages_arn  = "${local.registry_sagemaker_arn}:model-package/${var.registry_model_package_group_name}/*"
  registry_bucket_arn    = "arn:${local.partition}:s3:::${var.registry_artifact_bucket_name}"
  registry_objects_arn   = "${local.registry_bucket_arn}/*"
  registry_keys_arn      = "arn:${local.partition}:kms:${local.region}:${var.registry_account_id}:key/*" # the registry key policy names the one key
  registry_root_arn      = "arn:${local.partition}:iam::${var.registry_account_id}:root"

  role_policies = {
    deployer  = data.aws_iam_policy_document.deployer.json
    sagemaker = data.aws_iam_policy_document.registry_models.json
  }
}

################################################################################
# Deployer role
################################################################################

data "aws_iam_policy_document" "deployer_trust" {
  statement {
    sid     = "RegistryDeployBuildAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [local.registry_root_arn]
    }

    # The account root as principal plus the exact role in a condition: the trust policy stays valid
    # whether or not the registry's CodeBuild role exists yet, and no other principal there may assume.
    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = [var.deploy_codebuild_role_arn]
    }
  }
}

data "aws_iam_policy_document" "deployer" {
  source_policy_documents = [data.aws_iam_policy_document.deployer_monitoring.json]

  statement {
    sid       = "ReadStageWiring" # subnets, security groups, key and execution role of the stage
    effect    = "Allow"
    actions   = ["ssm:GetParameters"]
    resources = [local.wiring_parameters_arn]
  }

  statement {
    sid       = "ReadRegistryPackages" # the registry's model package group policy grants the other half
    effect    = "Allow"
    actions   = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
    resources = [local.registry_packages_arn]
  }

  statement {
    sid       = "ReadHeldOutRows" # --smoke-test reads the rows stored with the package
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [local.registry_objects_arn]
  }

  statement {
    sid       = "DecryptRegistryArtifacts"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.registry_keys_arn]
  }

  statement {
    sid       = "CreateModels" # named <project>-<stage>-v<version>...
    effect    = "Allow"
    actions   = ["sagemaker:AddTags", "sagemaker:CreateModel", "sagemaker:ListTags"]
    resources = [local.models_arn]
  }

  statement {
    sid       = "CreateEndpointConfigs"
    effect    = "Allow"
    actions   = ["sagemaker:AddTags", "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"]
    resources = [local.endpoint_configs_arn]
  }

  statement {
    sid       = "DeployStageEndpoint" # create or update (blue/green, rollback) with one of this stage's configs
    effect    = "Allow"
    actions   = ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"]
    resources = [local.endpoint_arn, local.endpoint_configs_arn]
  }

  statement {
    sid       = "ReadAndInvokeStageEndpoint"
    effect    = "Allow"
    actions   = ["sagemaker:AddTags", "sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:ListTags"]
    resources = [local.endpoint_arn]
  }

  statement {
    sid       = "ScaleStageEndpoint"
    effect    = "Allow"
    actions   = ["application-autoscaling:PutScalingPolicy", "application-autoscaling:RegisterScalableTarget"]
    resources = [local.scalable_targets_arn]

    condition {
      test     = "StringEquals"
      variable = "application-autoscaling:service-namespace"
      values   = ["sagemaker"]
    }
  }

  statement {
    sid       = "ReadScaling" # Describe* of Application Auto Scaling has no resource-level permissions
    effect    = "Allow"
    actions   = ["application-autoscaling:DescribeScalableTargets"]
    resources = ["*"]
  }

  statement {
    sid       = "CreateAutoscalingServiceLinkedRole" # first RegisterScalableTarget of a SageMaker variant in the account
    effect    = "Allow"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = [local.autoscaling_slr_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["sagemaker.application-autoscaling.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadRollbackAlarms"
    effect    = "Allow"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = [local.alarms_arn]
  }

  statement {
    sid       = "PassModelExecutionRole"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [local.execution_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["sagemaker.amazonaws.com"]
    }
  }

  statement {
    sid       = "UseProjectKey" # CreateEndpointConfig with KmsKeyId: SageMaker creates a grant as the caller; monitor publish writes its step code with SSE-KMS
    effect    = "Allow"
    actions   = ["kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey"]
    resources = [local.kms_keys_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.kms_key_alias]
    }
  }
}

data "aws_iam_policy_document" "deployer_monitoring" {
  statement {
    sid       = "PublishMonitoringPipeline" # portable mode: upsert <project>-monitor-<stage>, comparing first
    effect    = "Allow"
    actions   = ["sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:DescribePipeline", "sagemaker:UpdatePipeline"]
    resources = [local.monitor_pipeline_arn]
  }

  statement {
    sid       = "UploadMonitoringStepCode" # content-addressed: a present sourcedir.tar.gz means the code is there
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.step_code_arn]
  }

  statement {
    sid       = "FindMonitoringStepCode" # HeadObject of a missing key answers 404 (not 403) with ListBucket
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid       = "ScheduleNativeMonitoring" # native mode: the schedule, read first so a re-run changes nothing
    effect    = "Allow"
    actions   = ["sagemaker:AddTags", "sagemaker:CreateMonitoringSchedule", "sagemaker:DescribeMonitoringSchedule", "sagemaker:UpdateMonitoringSchedule"]
    resources = [local.monitoring_schedule_arn]
  }

  statement {
    sid       = "CreateDriftJobDefinitions" # one per package version and settings, named <project>-<stage>-drift-v<n>-...
    effect    = "Allow"
    actions   = ["sagemaker:AddTags", "sagemaker:CreateDataQualityJobDefinition", "sagemaker:DescribeDataQualityJobDefinition"]
    resources = [local.drift_job_definitions_arn]
  }
}

resource "aws_iam_role" "deployer" {
  name                 = local.deployer_role_name
  description          = "Deployer of ${local.name}: pipelines.deploy from the registry account's deploy pipeline creates and updates the stage endpoint"
  assume_role_policy   = data.aws_iam_policy_document.deployer_trust.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = var.max_session_duration

  tags = merge(var.tags, { Name = local.deployer_role_name })
}

################################################################################
# The endpoint's model role (the stage's SageMaker execution role, which also runs the monitoring
# pipeline) reads the registry's model artifacts
################################################################################

data "aws_iam_policy_document" "registry_models" {
  statement {
    sid       = "ReadRegistryModelArtifacts" # model.tar.gz and the inference code of the package
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [local.registry_objects_arn]
  }

  statement {
    sid       = "ListRegistryModelArtifacts" # the monitoring pipeline's inputs from the package (baselines, model) are S3 prefixes
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.registry_bucket_arn]
  }

  statement {
    sid       = "DecryptRegistryModelArtifacts"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.registry_keys_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.role_policies

  name   = each.key == "deployer" ? "least-privilege" : "read-registry-models"
  role   = each.key == "deployer" ? aws_iam_role.deployer.id : var.model_execution_role_name
  policy = each.value
}

################################################################################
# Rollback alarms (the deploy's AutoRollbackConfiguration names them)
################################################################################

locals {
  alarms = {
    "5xx-errors" = {
      description = "Invocation 5XX errors of ${local.endpoint_name}: a blue/green deployment rolls back when this fires"
      metric_name = "Invocation5XXErrors"
      statistic   = "Sum"
      threshold   = var.rollback_5xx_errors_per_minute
    }
    "model-latency" = {
      description = "p99 model latency of ${local.endpoint_name} over ${var.rollback_model_latency_p99_ms} ms: a blue/green deployment rolls back when this fires"
      metric_name = "ModelLatency"
      statistic   = null
      threshold   = var.rollback_model_latency_p99_ms * 1000 # ModelLatency is in microseconds
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "rollback" {
  for_each = local.alarms

  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/SageMaker"
  metric_name         = each.value.metric_name
  statistic           = each.value.statistic
  extended_statistic  = each.value.statistic == null ? "p99" : null
  period              = 60
  evaluation_periods  = var.rollback_evaluation_minutes
  datapoints_to_alarm = var.rollback_evaluation_minutes
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arns
  ok_actions          = var.alarm_topic_arns

  dimensions = {
    EndpointName = local.endpoint_name
    VariantName  = var.variant_name
  }

  tags = merge(var.tags, { Name = "${local.name}-${each.key}" })
}
