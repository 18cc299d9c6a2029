# The deploy pipeline's roles: CodeBuild (runs pipelines.deploy, which assumes the stage
# deployer roles), CodePipeline, and EventBridge (starts the pipeline). Each is a service-role
# module: a trust policy for the service in this account, the permissions boundary, one
# least-privilege inline policy; template_tests/test_iam_contract.py reads `role_policies`.

locals {
  arn_suffix            = "${local.region}:${local.account_id}"
  sagemaker_arn         = "arn:${local.partition}:sagemaker:${local.arn_suffix}"
  artifact_bucket_arn   = "arn:${local.partition}:s3:::${var.artifact_bucket_name}"
  kms_keys_arn          = "arn:${local.partition}:kms:${local.arn_suffix}:key/*"
  log_group_arn         = "arn:${local.partition}:logs:${local.arn_suffix}:log-group:${local.log_group}"
  codebuild_project_arn = "arn:${local.partition}:codebuild:${local.arn_suffix}:project/${local.name}-*"
  codepipeline_arn      = "arn:${local.partition}:codepipeline:${local.arn_suffix}:${local.pipeline_name}"
  approval_topic_arn    = "arn:${local.partition}:sns:${local.arn_suffix}:${local.name}-deploy-approval"
  codecommit_arn        = "arn:${local.partition}:codecommit:${local.arn_suffix}:${var.repository}"
  is_codecommit         = var.source_provider == "codecommit"

  roles = {
    deploy_codebuild    = { name = "${local.name}-deploy-codebuild", service = "codebuild.amazonaws.com", description = "Deploy CodeBuild role of ${local.name}: run pipelines.deploy, which assumes the stage deployer roles" }
    deploy_codepipeline = { name = "${local.name}-deploy-codepipeline", service = "codepipeline.amazonaws.com", description = "Deploy CodePipeline role of ${local.name}: fetch the repository, run the deploy builds, announce the approval" }
    deploy_events       = { name = "${local.name}-deploy-events", service = "events.amazonaws.com", description = "EventBridge role of ${local.name}: start the deploy pipeline when a model package is approved" }
  }
  role_policies = {
    deploy_codebuild    = data.aws_iam_policy_document.deploy_codebuild.json
    deploy_codepipeline = data.aws_iam_policy_document.deploy_codepipeline.json
    deploy_events       = data.aws_iam_policy_document.deploy_events.json
  }
}

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

data "aws_iam_policy_document" "deploy_codebuild" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use.json]

  statement {
    sid       = "WriteBuildLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:log-stream:*"]
  }

  statement {
    sid       = "ReadSourceArtifact"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.artifact_bucket_arn}/*"]
  }

  statement {
    sid       = "LocateArtifactBucket"
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation"]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid       = "FindNewestApprovedPackage" # buildspecs/deploy.yml, for a run started by hand
    effect    = "Allow"
    actions   = ["sagemaker:ListModelPackages"]
    resources = ["${local.sagemaker_arn}:model-package/*"]
  }

  statement {
    sid       = "AssumeStageDeployers" # pipelines.deploy --stage S assumes <project>-<S>-deployer
    effect    = "Allow"
    actions   = ["sts:AssumeRole"]
    resources = var.deployer_role_arns
  }
}

data "aws_iam_policy_document" "deploy_codepipeline" {
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
    sid       = "RunDeployBuilds"
    effect    = "Allow"
    actions   = ["codebuild:BatchGetBuilds", "codebuild:StartBuild"]
    resources = [local.codebuild_project_arn]
  }

  statement {
    sid       = "AnnounceApproval"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [local.approval_topic_arn]
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

data "aws_iam_policy_document" "deploy_events" {
  statement {
    sid       = "StartDeployPipeline"
    effect    = "Allow"
    actions   = ["codepipeline:StartPipelineExecution"]
    resources = [local.codepipeline_arn]
  }
}

module "role" {
  source   = "../service-role"
  for_each = local.roles

  name                     = each.value.name
  description              = each.value.description
  services                 = [each.value.service]
  policy_json              = local.role_policies[each.key]
  permissions_boundary_arn = var.permissions_boundary_arn
  max_session_duration     = var.max_session_duration
  tags                     = var.tags
}
