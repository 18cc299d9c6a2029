# Continuous model build for one project stage: every merge to the branch starts a CodePipeline
# (V2) that fetches the team repository (GitHub through CodeConnections, or CodeCommit) and runs
# its buildspec in CodeBuild: the tests, then `python -m pipelines.run --wait`. Pipeline
# artifacts, build output and build logs are encrypted with the project KMS key.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name      = "${var.project}-${var.stage}"
  is_github = var.source_provider == "github"

  connection_arn = !local.is_github ? null : var.connection_arn != null ? var.connection_arn : one(aws_codestarconnections_connection.github[*].arn)

  # tomap() on both branches: the two configurations have different keys. For GitHub, the
  # pipeline trigger below (push to the branch) replaces the action's default change detection.
  source_action = local.is_github ? {
    provider = "CodeStarSourceConnection"
    configuration = tomap({
      ConnectionArn        = local.connection_arn
      FullRepositoryId     = var.repository
      BranchName           = var.branch
      OutputArtifactFormat = "CODE_ZIP"
    })
    } : {
    provider = "CodeCommit"
    configuration = tomap({
      RepositoryName       = var.repository
      BranchName           = var.branch
      PollForSourceChanges = "false" # the EventBridge rule below starts runs on push
      OutputArtifactFormat = "CODE_ZIP"
    })
  }

  # buildspec.yml runs `pipelines.run --stage "$ML_FACTORY_STAGE"`; project variables override the buildspec's.
  build_environment = merge(var.build_environment_variables, {
    ML_FACTORY_PROJECT = var.project
    ML_FACTORY_STAGE   = var.stage
  })
}

resource "aws_codestarconnections_connection" "github" {
  count = local.is_github && var.connection_arn == null ? 1 : 0

  name          = substr("${local.name}-github", 0, 32)
  provider_type = "GitHub"

  tags = var.tags
}

################################################################################
# CodeBuild
################################################################################

resource "aws_cloudwatch_log_group" "build" {
  name              = var.codebuild_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = var.codebuild_log_group_name })
}

resource "aws_codebuild_project" "this" {
  name           = var.codebuild_project_name
  description    = "ML Factory ${local.name}: run the tests, then build and run the SageMaker pipeline"
  service_role   = var.codebuild_role_arn
  encryption_key = var.kms_key_arn
  build_timeout  = var.build_timeout_minutes
  queued_timeout = 480

  artifacts {
    type = "CODEPIPELINE"
  }

  source {
    type      = "CODEPIPELINE"
    buildspec = var.buildspec
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = var.build_compute_type
    image                       = var.build_image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    dynamic "environment_variable" {
      for_each = local.build_environment

      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }

  cache {
    type  = "LOCAL"
    modes = ["LOCAL_CUSTOM_CACHE"] # the paths buildspec.yml lists under cache (the uv download cache)
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.build.name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  tags = merge(var.tags, { Name = var.codebuild_project_name })
}

################################################################################
# CodePipeline (V2)
################################################################################

resource "aws_codepipeline" "this" {
  name           = var.codepipeline_name
  role_arn       = var.codepipeline_role_arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED" # every merge gets its own run, in order

  artifact_store {
    type     = "S3"
    location = var.artifact_bucket_name

    encryption_key {
      type = "KMS"
      id   = var.kms_key_arn
    }
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
    name = "Build"

    action {
      name             = "TestAndRunPipeline"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["source"]
      output_artifacts = ["run_summary"] # buildspec.yml artifacts: the pipeline run summary

      configuration = {
        ProjectName = aws_codebuild_project.this.name
      }
    }
  }

  dynamic "trigger" {
    for_each = local.is_github ? [1] : []

    content {
      provider_type = "CodeStarSourceConnection"

      git_configuration {
        source_action_name = "Source"

        push {
          branches {
            includes = [var.branch]
          }
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.is_github || var.events_role_arn != null
      error_message = "The events_role_arn is required when source_provider is codecommit."
    }
  }

  tags = merge(var.tags, { Name = var.codepipeline_name })
}

################################################################################
# CodeCommit only: start the pipeline on a push to the branch
################################################################################

resource "aws_cloudwatch_event_rule" "codecommit_push" {
  count = local.is_github ? 0 : 1

  name        = "${var.codepipeline_name}-push"
  description = "Start ${var.codepipeline_name} on every push to ${var.branch} of ${var.repository}"
  event_pattern = jsonencode({
    source      = ["aws.codecommit"]
    detail-type = ["CodeCommit Repository State Change"]
    resources   = ["arn:${data.aws_partition.current.partition}:codecommit:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:${var.repository}"]
    detail = {
      event         = ["referenceCreated", "referenceUpdated"]
      referenceType = ["branch"]
      referenceName = [var.branch]
    }
  })

  tags = merge(var.tags, { Name = "${var.codepipeline_name}-push" })
}

resource "aws_cloudwatch_event_target" "codecommit_push" {
  count = local.is_github ? 0 : 1

  rule     = aws_cloudwatch_event_rule.codecommit_push[0].name
  arn      = aws_codepipeline.this.arn
  role_arn = var.events_role_arn
}
