# Promotion of approved models, in the registry account (the stage stack that builds and registers
# them). When a package of this project's group becomes Approved (exactly "Approved": not
# "anything but PendingManualApproval", which also fires on Rejected), an EventBridge rule starts a
# CodePipeline (V2) that deploys the package to staging, smoke-tests staging, waits for a manual
# approval (announced on an SNS topic), and deploys the same package to prod. Each deploy runs
# `python -m pipelines.deploy` in CodeBuild, which assumes the stage account's deployer role
# (infra/modules/deploy-target). The registry's model package group policy lets the stage
# accounts read the packages; the bucket and key grants are the data-perimeter and kms modules'.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name          = "${var.project}-${var.stage}"
  pipeline_name = "${local.name}-deploy"
  log_group     = "/aws/codebuild/${local.name}-deploy"
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.region
  is_github     = var.source_provider == "github"

  # The pipeline-level variable carrying the package ARN from the approval event to DeployStaging.
  package_variable = "MODEL_PACKAGE_ARN"

  source_action = local.is_github ? {
    provider = "CodeStarSourceConnection"
    configuration = tomap({
      ConnectionArn        = var.connection_arn
      FullRepositoryId     = var.repository
      BranchName           = var.branch
      OutputArtifactFormat = "CODE_ZIP"
      DetectChanges        = "false" # only an approval (or a person) starts a deploy, never a push
    })
    } : {
    provider = "CodeCommit"
    configuration = tomap({
      RepositoryName       = var.repository
      BranchName           = var.branch
      PollForSourceChanges = "false"
      OutputArtifactFormat = "CODE_ZIP"
    })
  }

  build_projects = {
    deploy = {
      description = "ML Factory ${local.name}: deploy an approved model package to a stage endpoint (pipelines.deploy)"
      buildspec   = file("${path.module}/buildspecs/deploy.yml")
    }
    smoke-test = {
      description = "ML Factory ${local.name}: smoke-test a stage endpoint with held-out rows (pipelines.deploy --smoke-test)"
      buildspec   = file("${path.module}/buildspecs/smoke-test.yml")
    }
  }
}

################################################################################
# EventBridge: an Approved package of this group starts the pipeline
################################################################################

resource "aws_cloudwatch_event_rule" "approved" {
  name          = "${local.name}-model-approved"
  description   = "Start ${local.pipeline_name} when a package of ${var.model_package_group_name} becomes Approved"
  event_pattern = templatefile("${path.module}/event-patterns/approved-model-package.json.tftpl", { model_package_group_name = var.model_package_group_name })

  tags = merge(var.tags, { Name = "${local.name}-model-approved" })
}

resource "aws_cloudwatch_event_target" "approved" {
  rule      = aws_cloudwatch_event_rule.approved.name
  target_id = "deploy-pipeline"
  arn       = aws_codepipeline.this.arn
  role_arn  = module.role["deploy_events"].arn

  # Passes the approved package's ARN as the pipeline variable; a run without it (started by hand)
  # deploys the group's newest Approved package (buildspecs/deploy.yml).
  input_transformer {
    input_paths    = { model_package_arn = "$.detail.ModelPackageArn" }
    input_template = templatefile("${path.module}/event-patterns/start-pipeline-input.json.tftpl", { variable_name = local.package_variable })
  }
}

################################################################################
# CodeBuild: deploy and smoke-test
################################################################################

resource "aws_cloudwatch_log_group" "build" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = local.log_group })
}

resource "aws_codebuild_project" "this" {
  for_each = local.build_projects

  name           = "${local.name}-${each.key}"
  description    = each.value.description
  service_role   = module.role["deploy_codebuild"].arn
  encryption_key = var.kms_key_arn
  build_timeout  = var.build_timeout_minutes
  queued_timeout = 480

  artifacts {
    type = "CODEPIPELINE"
  }

  source {
    type      = "CODEPIPELINE"
    buildspec = each.value.buildspec # embedded from the module, so every team repository runs the same steps
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = var.build_compute_type
    image                       = var.build_image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    environment_variable {
      name  = "ML_FACTORY_PROJECT"
      value = var.project
    }

    environment_variable {
      name  = "MODEL_PACKAGE_GROUP"
      value = var.model_package_group_name
    }
  }

  cache {
    type  = "LOCAL"
    modes = ["LOCAL_CUSTOM_CACHE"]
  }

  logs_config {
    cloudwatch_logs {
      status      = "ENABLED"
      group_name  = aws_cloudwatch_log_group.build.name
      stream_name = each.key
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  tags = merge(var.tags, { Name = "${local.name}-${each.key}" })
}

################################################################################
# Manual approval before prod: announced on a KMS-encrypted topic
################################################################################

resource "aws_sns_topic" "approval" {
  name              = "${local.name}-deploy-approval"
  display_name      = "ML Factory ${local.name}: approve prod deployment"
  kms_master_key_id = var.kms_key_arn

  tags = merge(var.tags, { Name = "${local.name}-deploy-approval" })
}

resource "aws_sns_topic_subscription" "approval" {
  for_each = toset(var.approval_emails)

  topic_arn = aws_sns_topic.approval.arn
  protocol  = "email" # each address confirms once from the e-mail SNS sends
  endpoint  = each.value
}

################################################################################
# CodePipeline (V2): deploy staging -> test staging -> approve -> deploy prod
################################################################################

locals {
  # CodeBuild action environment: which stage, and which package (a pipeline or an action variable).
  staging_environment = jsonencode([
    { name = "DEPLOY_STAGE", value = "staging", type = "PLAINTEXT" },
    { name = local.package_variable, value = "#{variables.${local.package_variable}}", type = "PLAINTEXT" },
  ])
  test_environment = jsonencode([{ name = "DEPLOY_STAGE", value = "staging", type = "PLAINTEXT" }])
  prod_environment = jsonencode([
    { name = "DEPLOY_STAGE", value = "prod", type = "PLAINTEXT" },
    { name = local.package_variable, value = "#{DeployStaging.${local.package_variable}}", type = "PLAINTEXT" },
  ])
}

resource "aws_codepipeline" "this" {
  name           = local.pipeline_name
  role_arn       = module.role["deploy_codepipeline"].arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED" # every approval is deployed, in order

  artifact_store {
    type     = "S3"
    location = var.artifact_bucket_name

    encryption_key {
      type = "KMS"
      id   = var.kms_key_arn
    }
  }

  variable {
    name          = local.package_variable
    default_value = "latest-approved"
    description   = "ARN of the Approved model package to deploy (set by the approval event)."
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = local.source_action.provider
      version          = "1"
      output_artifacts = ["source"]
      configuration    = local.source_action.configuration
    }
  }

  stage {
    name = "DeployStaging"

    action {
      name            = "DeployStaging"
      namespace       = "DeployStaging" # exports MODEL_PACKAGE_ARN for DeployProd
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source"]

      configuration = {
        ProjectName          = aws_codebuild_project.this["deploy"].name
        EnvironmentVariables = local.staging_environment
      }
    }
  }

  stage {
    name = "TestStaging"

    action {
      name            = "SmokeTestStaging"
      category        = "Test"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source"]

      configuration = {
        ProjectName          = aws_codebuild_project.this["smoke-test"].name
        EnvironmentVariables = local.test_environment
      }
    }
  }

  stage {
    name = "ApproveProd"

    action {
      name     = "ApproveProd"
      category = "Approval"
      owner    = "AWS"
      provider = "Manual"
      version  = "1"

      configuration = {
        NotificationArn = aws_sns_topic.approval.arn
        CustomData      = "Deploy #{DeployStaging.${local.package_variable}} to prod? It passed the staging smoke test."
      }
    }
  }

  stage {
    name = "DeployProd"

    action {
      name            = "DeployProd"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source"]

      configuration = {
        ProjectName          = aws_codebuild_project.this["deploy"].name
        EnvironmentVariables = local.prod_environment
      }
    }
  }

  lifecycle {
    precondition {
      condition     = !local.is_github || var.connection_arn != null
      error_message = "The connection_arn is required when source_provider is github (pass the build-pipeline module's connection_arn)."
    }
  }

  tags = merge(var.tags, { Name = local.pipeline_name })
}

################################################################################
# The stage accounts read this group's packages (their deployer roles and model roles)
################################################################################

data "aws_iam_policy_document" "model_package_group" {
  statement {
    sid       = "StageAccountsReadGroup"
    effect    = "Allow"
    actions   = ["sagemaker:DescribeModelPackageGroup"]
    resources = ["arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:model-package-group/${var.model_package_group_name}"]

    principals {
      type        = "AWS"
      identifiers = [for account in var.target_account_ids : "arn:${local.partition}:iam::${account}:root"]
    }
  }

  statement {
    sid       = "StageAccountsReadPackages"
    effect    = "Allow"
    actions   = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
    resources = ["arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:model-package/${var.model_package_group_name}/*"]

    principals {
      type        = "AWS"
      identifiers = [for account in var.target_account_ids : "arn:${local.partition}:iam::${account}:root"]
    }
  }
}

resource "aws_sagemaker_model_package_group_policy" "stage_accounts" {
  model_package_group_name = var.model_package_group_name
  resource_policy          = data.aws_iam_policy_document.model_package_group.json
}
