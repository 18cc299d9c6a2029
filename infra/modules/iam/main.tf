# Least-privilege roles of one project stage: the SageMaker execution role (pipeline steps and
# jobs), the CodeBuild role (tests, then `python -m pipelines.run --wait`) and the CodePipeline
# role, plus an EventBridge role when the source is CodeCommit. Every role carries a
# permissions boundary and a bounded session duration. Policies name the project's resources;
# actions that AWS cannot scope to a resource (EC2 Describe*, cloudwatch:PutMetricData) are the
# only ones on "*". template_tests/test_iam_contract.py holds every grant to a use in our code
# (or a documented use by the AWS service acting with the role), scoped as AWS's IAM data allows.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = "${var.project}-${var.stage}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  arn_suffix = "${local.region}:${local.account_id}" # region:account part of regional ARNs

  role_names = {
    sagemaker    = "${local.name}-sagemaker-execution"
    codebuild    = "${local.name}-codebuild"
    codepipeline = "${local.name}-codepipeline"
    events       = "${local.name}-events"
  }
  sagemaker_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${local.role_names.sagemaker}"

  artifact_bucket_arn     = "arn:${local.partition}:s3:::${var.artifact_bucket_name}"
  data_bucket_arn         = "arn:${local.partition}:s3:::${var.data_bucket_name}"
  access_points_arn       = "arn:${local.partition}:s3:${local.arn_suffix}:accesspoint/${local.name}-*"
  kms_keys_arn            = "arn:${local.partition}:kms:${local.arn_suffix}:key/*"
  vpc_arn                 = "arn:${local.partition}:ec2:${local.arn_suffix}:vpc/${var.vpc_id}"
  sagemaker_arn           = "arn:${local.partition}:sagemaker:${local.arn_suffix}"
  pipeline_arn            = "${local.sagemaker_arn}:pipeline/${var.sagemaker_pipeline_name}"
  pipeline_execution_arn  = "${local.pipeline_arn}/execution/*"
  model_package_group_arn = "${local.sagemaker_arn}:model-package-group/${var.model_package_group_name}"
  model_packages_arn      = "${local.sagemaker_arn}:model-package/${var.model_package_group_name}/*"
  codebuild_project_arn   = "arn:${local.partition}:codebuild:${local.arn_suffix}:project/${var.codebuild_project_name}"
  codebuild_log_arn       = "arn:${local.partition}:logs:${local.arn_suffix}:log-group:${var.codebuild_log_group_name}"
  codepipeline_arn        = "arn:${local.partition}:codepipeline:${local.arn_suffix}:${var.codepipeline_name}"
  codecommit_arn          = "arn:${local.partition}:codecommit:${local.arn_suffix}:${var.repository}"
  wiring_parameters_arn   = "arn:${local.partition}:ssm:${local.arn_suffix}:parameter/ml-factory/${var.project}/${var.stage}/*"
  tracking_server_arn     = "${local.sagemaker_arn}:mlflow-tracking-server/${local.name}" # infra/modules/tracking

  is_codecommit            = var.source_provider == "codecommit"
  permissions_boundary_arn = var.permissions_boundary_arn != null ? var.permissions_boundary_arn : one(aws_iam_policy.boundary[*].arn)
}

################################################################################
# Shared statements: the project KMS key, by alias
################################################################################

data "aws_iam_policy_document" "kms_use" {
  statement {
    sid       = "UseProjectKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_keys_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.kms_key_alias]
    }
  }
}

################################################################################
# Permissions boundary (unless one is passed in)
################################################################################

data "aws_iam_policy_document" "boundary" {
  count = var.permissions_boundary_arn == null ? 1 : 0

  statement {
    sid     = "ProjectBuckets"
    effect  = "Allow"
    actions = ["s3:*"]
    resources = [
      local.artifact_bucket_arn,
      "${local.artifact_bucket_arn}/*",
      local.data_bucket_arn,
      "${local.data_bucket_arn}/*",
      local.access_points_arn,
      "${local.access_points_arn}/object/*",
    ]
  }

  statement {
    sid       = "ProjectKey"
    effect    = "Allow"
    actions   = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    resources = [local.kms_keys_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.kms_key_alias]
    }
  }

  statement {
    sid     = "ProjectServicesInThisAccountAndRegion"
    effect  = "Allow"
    actions = ["codebuild:*", "codepipeline:*", "ecr:*", "logs:*", "sagemaker:*"]
    resources = [
      "arn:${local.partition}:codebuild:${local.arn_suffix}:*",
      "arn:${local.partition}:codepipeline:${local.arn_suffix}:*",
      "arn:${local.partition}:ecr:${local.arn_suffix}:repository/${var.project}*",
      "arn:${local.partition}:logs:${local.arn_suffix}:*",
      "${local.sagemaker_arn}:*",
    ]
  }

  statement {
    sid     = "JobNetworkInterfacesInProjectVpc"
    effect  = "Allow"
    actions = ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission", "ec2:UnassignPrivateIpAddresses"]
    resources = [
      "arn:${local.partition}:ec2:${local.arn_suffix}:network-interface/*",
      "arn:${local.partition}:ec2:${local.arn_suffix}:security-group/*",
      "arn:${local.partition}:ec2:${local.arn_suffix}:subnet/*",
    ]
  }

  statement {
    sid     = "LifecycleCleanup" # modules/lifecycle: delete the project's unattached volumes; the schedule invokes the cleanup
    effect  = "Allow"
    actions = ["ec2:DeleteVolume", "lambda:InvokeFunction"]
    resources = [
      "arn:${local.partition}:ec2:${local.arn_suffix}:volume/*",
      "arn:${local.partition}:lambda:${local.arn_suffix}:function:${local.name}-*",
    ]
  }

  statement {
    sid     = "DriftAndContinuousTraining" # modules/monitoring: forward drift alarms; the cool-down state; the quiet-data schedule
    effect  = "Allow"
    actions = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "events:PutEvents", "scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"]
    resources = [
      "arn:${local.partition}:dynamodb:${local.arn_suffix}:table/${local.name}-*",
      "arn:${local.partition}:events:${local.region}:*:event-bus/${var.project}-*", # the registry stage's retrain bus
      "arn:${local.partition}:scheduler:${local.arn_suffix}:schedule/${local.name}-*",
    ]
  }

  statement {
    sid     = "SourceRepository"
    effect  = "Allow"
    actions = ["codecommit:*", "codeconnections:UseConnection", "codestar-connections:UseConnection"]
    resources = [
      local.codecommit_arn,
      "arn:${local.partition}:codeconnections:${local.arn_suffix}:connection/*",
      "arn:${local.partition}:codestar-connections:${local.arn_suffix}:connection/*",
    ]
  }

  # Promotion and serving (deploy-pipeline, deploy-target, inference-api modules).
  statement {
    sid       = "AssumeStageDeployers"
    effect    = "Allow"
    actions   = ["sts:AssumeRole"]
    resources = ["arn:${local.partition}:iam::*:role/${var.project}-*-deployer"]
  }

  statement {
    sid     = "ReadRegistryModels" # the registry account's packages and artifacts; its resource policies decide
    effect  = "Allow"
    actions = ["kms:Decrypt", "s3:GetObject", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
    resources = [
      "arn:${local.partition}:sagemaker:${local.region}:*:model-package/${var.project}-*",
      "arn:${local.partition}:s3:::${var.project}-*-artifacts-*/*",
      "arn:${local.partition}:kms:${local.region}:*:key/*",
    ]
  }

  statement {
    sid     = "ServeProjectEndpoints"
    effect  = "Allow"
    actions = ["application-autoscaling:PutScalingPolicy", "application-autoscaling:RegisterScalableTarget", "cloudwatch:DescribeAlarms", "iam:CreateServiceLinkedRole", "sns:Publish"]
    resources = [
      "arn:${local.partition}:application-autoscaling:${local.arn_suffix}:scalable-target/*",
      "arn:${local.partition}:cloudwatch:${local.arn_suffix}:alarm:${local.name}-*",
      "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/*",
      "arn:${local.partition}:sns:${local.arn_suffix}:${local.name}-*",
    ]
  }

  statement {
    sid       = "WiringParameters"
    effect    = "Allow"
    actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    resources = [local.wiring_parameters_arn, trimsuffix(local.wiring_parameters_arn, "/*")]
  }

  statement {
    sid       = "ProjectTrackingServer"
    effect    = "Allow"
    actions   = ["sagemaker-mlflow:*"]
    resources = [local.tracking_server_arn]
  }

  statement {
    sid       = "PassProjectRoles"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.name}-*"]
  }

  statement {
    sid    = "ActionsWithoutResourceLevelPermissions"
    effect = "Allow"
    actions = [
      "application-autoscaling:DescribeScalableTargets",
      "cloudwatch:GetMetricStatistics",
      "cloudwatch:PutMetricData",
      "ec2:DescribeDhcpOptions",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVolumes",
      "ec2:DescribeVpcs",
      "ecr:GetAuthorizationToken",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  count = var.permissions_boundary_arn == null ? 1 : 0

  name        = "${local.name}-permissions-boundary"
  description = "Permissions boundary of the ${local.name} roles: this project's buckets, key, pipelines and repository only"
  policy      = data.aws_iam_policy_document.boundary[0].json

  tags = var.tags
}

################################################################################
# SageMaker execution role
################################################################################

data "aws_iam_policy_document" "sagemaker" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json]

  statement {
    sid       = "GrantKeyToSageMakerVolumes"
    effect    = "Allow"
    actions   = ["kms:CreateGrant"]
    resources = [local.kms_keys_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.kms_key_alias]
    }

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  statement {
    sid       = "DescribeProjectKey"
    effect    = "Allow"
    actions   = ["kms:DescribeKey"]
    resources = [local.kms_keys_arn]

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.kms_key_alias]
    }
  }

  statement {
    sid       = "ListProjectBuckets"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.artifact_bucket_arn, local.data_bucket_arn, local.access_points_arn]
  }

  statement {
    sid       = "ReadWriteArtifacts"
    effect    = "Allow"
    actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = ["${local.artifact_bucket_arn}/*"]
  }

  statement {
    sid       = "ReadData"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${local.data_bucket_arn}/*", "${local.access_points_arn}/object/*"]
  }

  statement {
    sid       = "WriteJobLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.arn_suffix}:log-group:/aws/sagemaker/*"]
  }

  statement {
    sid       = "PublishJobMetrics"
    effect    = "Allow"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it

    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*", "aws/sagemaker/*"]
    }
  }

  statement {
    sid    = "DescribeJobNetwork"
    effect = "Allow"
    actions = [
      "ec2:DescribeDhcpOptions",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
    ]
    resources = ["*"] # EC2 Describe* actions have no resource-level permissions
  }

  statement {
    sid     = "JobNetworkInterfacesInProjectVpc"
    effect  = "Allow"
    actions = ["ec2:CreateNetworkInterface"]
    resources = [
      "arn:${local.partition}:ec2:${local.arn_suffix}:network-interface/*",
      "arn:${local.partition}:ec2:${local.arn_suffix}:security-group/*",
      "arn:${local.partition}:ec2:${local.arn_suffix}:subnet/*",
    ]

    condition {
      test     = "ArnEquals"
      variable = "ec2:Vpc"
      values   = [local.vpc_arn]
    }
  }

  statement {
    sid    = "ManageJobNetworkInterfacesInProjectVpc"
    effect = "Allow"
    actions = [
      "ec2:CreateNetworkInterfacePermission",
      "ec2:DeleteNetworkInterface",
      "ec2:DeleteNetworkInterfacePermission",
    ]
    resources = ["arn:${local.partition}:ec2:${local.arn_suffix}:network-interface/*"]

    condition {
      test     = "ArnEquals"
      variable = "ec2:Vpc"
      values   = [local.vpc_arn]
    }
  }

  statement {
    sid    = "RunProcessingJobs"
    effect = "Allow"
    actions = [
      "sagemaker:AddTags",
      "sagemaker:CreateProcessingJob",
      "sagemaker:DescribeProcessingJob",
      "sagemaker:StopProcessingJob",
    ]
    resources = ["${local.sagemaker_arn}:processing-job/*"]
  }

  statement {
    sid    = "RunTrainingJobs"
    effect = "Allow"
    actions = [
      "sagemaker:AddTags",
      "sagemaker:CreateTrainingJob",
      "sagemaker:DescribeTrainingJob",
      "sagemaker:StopTrainingJob",
    ]
    resources = ["${local.sagemaker_arn}:training-job/*"]
  }

  statement {
    sid    = "RegisterModels"
    effect = "Allow"
    actions = [
      "sagemaker:AddTags",
      "sagemaker:CreateModelPackage",
      "sagemaker:DescribeModelPackage",
    ]
    resources = [local.model_packages_arn]
  }

  statement {
    sid       = "ReadModelPackageGroup"
    effect    = "Allow"
    actions   = ["sagemaker:DescribeModelPackageGroup"]
    resources = [local.model_package_group_arn]
  }

  statement {
    sid       = "FindDriftBaselines" # the data-quality step reads the latest approved package's baselines
    effect    = "Allow"
    actions   = ["sagemaker:ListModelPackages"]
    resources = ["${local.sagemaker_arn}:model-package/*"]
  }

  statement {
    sid       = "PassSelfToSageMakerJobs"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [local.sagemaker_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["sagemaker.amazonaws.com"]
    }
  }
}

################################################################################
# CodeBuild role
################################################################################

data "aws_iam_policy_document" "codebuild" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json]

  statement {
    sid       = "WriteBuildLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.codebuild_log_arn}:log-stream:*"]
  }

  statement {
    sid       = "ListArtifactBucket" # ListBucket: a missing step-code object is a 404, not a 403
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid       = "ReadWriteArtifacts"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["${local.artifact_bucket_arn}/*"]
  }

  statement {
    sid       = "ReadWiring"
    effect    = "Allow"
    actions   = ["ssm:GetParameters"]
    resources = [local.wiring_parameters_arn]
  }

  statement {
    sid    = "UpsertAndStartSageMakerPipeline"
    effect = "Allow"
    actions = [
      "sagemaker:AddTags",
      "sagemaker:CreatePipeline",
      "sagemaker:DescribePipeline",
      "sagemaker:StartPipelineExecution",
      "sagemaker:UpdatePipeline",
    ]
    resources = [local.pipeline_arn]
  }

  statement {
    sid       = "FollowPipelineExecutions" # pipelines.run --wait; the Spot saving goes into the execution's description
    effect    = "Allow"
    actions   = ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps", "sagemaker:UpdatePipelineExecution"]
    resources = [local.pipeline_execution_arn]
  }

  statement {
    sid       = "EstimateFromEarlierExecutions" # pipelines.run --budget: median step durations of the last runs
    effect    = "Allow"
    actions   = ["sagemaker:ListPipelineExecutions"]
    resources = [local.pipeline_arn]
  }

  statement {
    sid       = "ReportSpotSavings" # pipelines.run --wait: billable vs training seconds of the run's training job
    effect    = "Allow"
    actions   = ["sagemaker:DescribeTrainingJob"]
    resources = ["${local.sagemaker_arn}:training-job/*"] # named by the pipeline service, not by us

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  statement {
    sid       = "ReadModelRegistry"
    effect    = "Allow"
    actions   = ["sagemaker:DescribeModelPackage"]
    resources = [local.model_packages_arn]
  }

  statement {
    sid       = "ListModelPackages"
    effect    = "Allow"
    actions   = ["sagemaker:ListModelPackages"]
    resources = ["${local.sagemaker_arn}:model-package/*"]
  }

  statement {
    sid       = "ReadEvaluationJobOutputs" # pipelines.run --wait: where Evaluate and Preprocess wrote, for MLflow
    effect    = "Allow"
    actions   = ["sagemaker:DescribeProcessingJob"]
    resources = ["${local.sagemaker_arn}:processing-job/*"] # named by the pipeline service, not by us

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  statement {
    sid       = "LinkModelPackageToMlflowRun" # the run id in the package's CustomerMetadataProperties
    effect    = "Allow"
    actions   = ["sagemaker:UpdateModelPackage"]
    resources = [local.model_packages_arn]
  }

  statement {
    sid    = "LogRunsToTrackingServer" # pipelines.run --wait logs the execution (pipelines/tracking/cloud_run.py)
    effect = "Allow"
    actions = [
      "sagemaker-mlflow:CreateExperiment",
      "sagemaker-mlflow:CreateRun",
      "sagemaker-mlflow:FinalizeLoggedModel",
      "sagemaker-mlflow:GetExperimentByName",
      "sagemaker-mlflow:GetLoggedModel",
      "sagemaker-mlflow:GetMetricHistory",
      "sagemaker-mlflow:GetRun",
      "sagemaker-mlflow:LogBatch",
      "sagemaker-mlflow:LogModel",
      "sagemaker-mlflow:LogOutputs",
      "sagemaker-mlflow:SetTag",
      "sagemaker-mlflow:UpdateRun",
    ]
    resources = [local.tracking_server_arn]
  }

  statement {
    sid       = "PassExecutionRoleToPipeline"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [local.sagemaker_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["sagemaker.amazonaws.com"]
    }
  }
}

################################################################################
# CodePipeline role
################################################################################

data "aws_iam_policy_document" "codepipeline" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json]

  statement {
    sid       = "ListArtifactBucket"
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid       = "ReadWritePipelineArtifacts"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["${local.artifact_bucket_arn}/*"]
  }

  statement {
    sid       = "RunBuild"
    effect    = "Allow"
    actions   = ["codebuild:BatchGetBuilds", "codebuild:StartBuild"]
    resources = [local.codebuild_project_arn]
  }

  dynamic "statement" {
    for_each = local.is_codecommit ? [] : ["codestar-connections", "codeconnections"]

    content {
      sid       = statement.value == "codeconnections" ? "UseCodeConnectionForTeamRepository" : "UseCodeStarConnectionForTeamRepository"
      effect    = "Allow"
      actions   = ["${statement.value}:UseConnection"]
      resources = ["arn:${local.partition}:${statement.value}:${local.arn_suffix}:connection/*"]

      condition {
        test     = "StringEquals"
        variable = "${statement.value}:FullRepositoryId"
        values   = [var.repository]
      }
    }
  }

  dynamic "statement" {
    for_each = local.is_codecommit ? [1] : []

    content {
      sid    = "ReadTeamRepository"
      effect = "Allow"
      actions = [
        "codecommit:CancelUploadArchive",
        "codecommit:GetBranch",
        "codecommit:GetCommit",
        "codecommit:GetRepository",
        "codecommit:GetUploadArchiveStatus",
        "codecommit:UploadArchive",
      ]
      resources = [local.codecommit_arn]
    }
  }
}

################################################################################
# EventBridge role (CodeCommit only): start the pipeline on a push to the branch
################################################################################

data "aws_iam_policy_document" "events" {
  count = local.is_codecommit ? 1 : 0

  statement {
    sid       = "StartPipeline"
    effect    = "Allow"
    actions   = ["codepipeline:StartPipelineExecution"]
    resources = [local.codepipeline_arn]
  }
}

################################################################################
# The roles: one per AWS service acting for the project, each with a trust policy
# for that service in this account, the permissions boundary and one inline policy (service-role)
################################################################################

locals {
  roles = merge(
    {
      sagemaker    = { service = "sagemaker.amazonaws.com", description = "SageMaker execution role of ${local.name}: pipeline steps, training and processing jobs" }
      codebuild    = { service = "codebuild.amazonaws.com", description = "CodeBuild role of ${local.name}: run the tests, then upsert and run the SageMaker pipeline" }
      codepipeline = { service = "codepipeline.amazonaws.com", description = "CodePipeline role of ${local.name}: fetch the team repository and start the build" }
    },
    # the EventBridge role starts the pipeline on a CodeCommit push; GitHub sources need none
    local.is_codecommit ? { events = { service = "events.amazonaws.com", description = "EventBridge role of ${local.name}: start the pipeline on a push to the CodeCommit branch" } } : {},
  )
  role_policies = merge(
    {
      sagemaker    = data.aws_iam_policy_document.sagemaker.json
      codebuild    = data.aws_iam_policy_document.codebuild.json
      codepipeline = data.aws_iam_policy_document.codepipeline.json
    },
    local.is_codecommit ? { events = data.aws_iam_policy_document.events[0].json } : {},
  )
}

module "role" {
  source   = "../service-role"
  for_each = local.roles

  name                     = local.role_names[each.key]
  description              = each.value.description
  services                 = [each.value.service]
  policy_json              = local.role_policies[each.key]
  permissions_boundary_arn = local.permissions_boundary_arn
  max_session_duration     = var.max_session_duration
  tags                     = var.tags
}
