# Idle-resource cleanup of one project stage: a Python Lambda (lambda/lifecycle_cleanup.py), run by
# EventBridge Scheduler. In the dev stage it deletes the project's idle real-time endpoints, unused
# endpoint configs, idle Studio apps, unattached EBS volumes and old Spot training checkpoints;
# `ml-factory:keep=true` exempts a resource, and any other stage makes the function refuse to act.
# Deletes are allowed by IAM only on resources tagged Project=<project> and Environment=dev, so the
# role cannot touch staging, prod or another team's resources even if the code tried.
# template_tests/test_iam_contract.py holds every grant to a call the function's tests make.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = "${var.project}-${var.stage}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  arn_suffix = "${local.region}:${local.account_id}"

  function_name     = "${local.name}-lifecycle"
  checkpoint_prefix = "${var.project}/pipelines/${var.sagemaker_pipeline_name}/checkpoints/"

  sagemaker_arn  = "arn:${local.partition}:sagemaker:${local.arn_suffix}"
  bucket_arn     = "arn:${local.partition}:s3:::${var.artifact_bucket_name}"
  checkpoint_arn = "arn:${local.partition}:s3:::${var.artifact_bucket_name}/${local.checkpoint_prefix}*"
  function_arn   = "arn:${local.partition}:lambda:${local.arn_suffix}:function:${local.function_name}"

  scheduler_role = {
    name        = "${local.name}-lifecycle-scheduler"
    description = "EventBridge Scheduler role of ${local.name}: invoke the cleanup Lambda"
  }
  role_policies = {
    lifecycle           = data.aws_iam_policy_document.lifecycle.json
    lifecycle_scheduler = data.aws_iam_policy_document.lifecycle_scheduler.json
  }
}

################################################################################
# The function's role: read broadly (to know what is idle), delete only what is the project's
################################################################################

data "aws_iam_policy_document" "lifecycle" {
  statement {
    sid    = "ListWithoutResourceLevelPermissions"
    effect = "Allow"
    actions = [
      "cloudwatch:GetMetricStatistics",
      "ec2:DescribeVolumes",
      "sagemaker:ListApps",
      "sagemaker:ListEndpointConfigs",
      "sagemaker:ListEndpoints",
    ]
    resources = ["*"] # these List/Describe actions have no resource-level permissions
  }

  statement {
    sid       = "ReadEndpoints" # every endpoint: which endpoint configs are still in use
    effect    = "Allow"
    actions   = ["sagemaker:DescribeEndpoint", "sagemaker:ListTags"]
    resources = ["${local.sagemaker_arn}:endpoint/*"]
  }

  statement {
    sid       = "ReadEndpointConfigTags"
    effect    = "Allow"
    actions   = ["sagemaker:ListTags"]
    resources = ["${local.sagemaker_arn}:endpoint-config/*"]
  }

  statement {
    sid       = "ReadStudioApps"
    effect    = "Allow"
    actions   = ["sagemaker:DescribeApp", "sagemaker:ListTags"]
    resources = ["${local.sagemaker_arn}:app/*"]
  }

  statement {
    sid       = "DeleteProjectEndpoints"
    effect    = "Allow"
    actions   = ["sagemaker:DeleteEndpoint"]
    resources = ["${local.sagemaker_arn}:endpoint/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = ["dev"]
    }
  }

  statement {
    sid       = "DeleteProjectEndpointConfigs"
    effect    = "Allow"
    actions   = ["sagemaker:DeleteEndpointConfig"]
    resources = ["${local.sagemaker_arn}:endpoint-config/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = ["dev"]
    }
  }

  statement {
    sid       = "StopProjectStudioApps"
    effect    = "Allow"
    actions   = ["sagemaker:DeleteApp"]
    resources = ["${local.sagemaker_arn}:app/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = ["dev"]
    }
  }

  statement {
    sid       = "DeleteProjectVolumes"
    effect    = "Allow"
    actions   = ["ec2:DeleteVolume"]
    resources = ["arn:${local.partition}:ec2:${local.arn_suffix}:volume/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = ["dev"]
    }
  }

  statement {
    sid       = "ListCheckpoints"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.checkpoint_prefix}*"]
    }
  }

  statement {
    sid       = "ExpireCheckpoints"
    effect    = "Allow"
    actions   = ["s3:DeleteObject", "s3:GetObjectTagging"]
    resources = [local.checkpoint_arn]
  }
}

data "aws_iam_policy_document" "lifecycle_scheduler" {
  statement {
    sid       = "InvokeCleanup"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.function_arn]
  }
}

module "scheduler_role" {
  source = "../service-role"

  name                     = local.scheduler_role.name
  description              = local.scheduler_role.description
  services                 = ["scheduler.amazonaws.com"]
  policy_json              = local.role_policies.lifecycle_scheduler
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

################################################################################
# The function (its role, log group and package: the lambda-function module) and its schedule
################################################################################

module "function" {
  source = "../lambda-function"

  function_name                  = local.function_name
  description                    = "ML Factory ${local.name}: delete the project's idle dev resources (dry run: ${var.dry_run})"
  source_file                    = "${path.module}/lambda/lifecycle_cleanup.py"
  handler                        = "lifecycle_cleanup.handler"
  timeout                        = 300
  memory_size                    = 256
  reserved_concurrent_executions = 1 # never two cleanups at once
  role_description               = "Cleanup Lambda of ${local.name}: delete the project's idle dev resources"
  policy_json                    = local.role_policies.lifecycle
  kms_key_arn                    = var.kms_key_arn
  log_retention_days             = var.log_retention_days
  permissions_boundary_arn       = var.permissions_boundary_arn
  tags                           = var.tags

  environment_variables = {
    PROJECT           = var.project
    STAGE             = var.stage
    DRY_RUN           = tostring(var.dry_run)
    IDLE_HOURS        = tostring(var.idle_hours)
    CHECKPOINT_DAYS   = tostring(var.checkpoint_days)
    CHECKPOINT_BUCKET = var.artifact_bucket_name
    CHECKPOINT_PREFIX = local.checkpoint_prefix
  }
}

resource "aws_scheduler_schedule" "cleanup" {
  #checkov:skip=CKV_AWS_297:The schedule's only payload is a constant marker with no data; the function's environment and logs use the project KMS key.
  name                = local.function_name
  description         = "Run the ML Factory cleanup of ${local.name}"
  schedule_expression = var.schedule_expression

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 15
  }

  target {
    arn      = module.function.function_arn
    role_arn = module.scheduler_role.arn
    input    = jsonencode({ source = "ml-factory-lifecycle-schedule" })

    retry_policy {
      maximum_retry_attempts = 0 # the next scheduled run retries
    }
  }
}
