# Studio launch of the ML Factory template: a SageMaker project created in Studio runs the launch template
# (studio/launch-template.yaml, published by `python -m hooks.publish_studio_template`). Its one custom
# resource calls this module's function, which starts this module's vending CodeBuild job: validate the
# inputs (pipelines/rules.py), render, create the repo, apply the dev stage, push, answer the stack.
#
# Two routes to the same template (var.launch_route):
# - service-catalog: a portfolio shared with the Studio users' roles, a product tagged
#   sagemaker:studio-visibility=true, and a launch constraint with the launch role;
# - s3: the template object in this bucket, tagged sagemaker:studio-visibility=true; CreateProject names it
#   in TemplateProviders with the launch role (provider 6.25 has no resource for that; the publish command does it).
#
# THE FUNCTION-ARN CONTRACT. The template reads the function's ARN from the SSM parameter
# /ml-factory/studio/vending-function-arn (hooks/studio_template.py FUNCTION_ARN_PARAMETER); this file writes it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  release_prefix           = "releases/${var.template_version}"
  template_key             = "${local.release_prefix}/launch-template.yaml"
  source_bundle_key        = "${local.release_prefix}/ml-factory-template.tar.gz"
  template_url             = "https://${aws_s3_bucket.templates.bucket_regional_domain_name}/${local.template_key}"
  function_name            = "${var.name_prefix}-vending"
  vending_project_name     = "${var.name_prefix}-vending"
  function_arn_parameter   = "/ml-factory/studio/vending-function-arn"
  use_service_catalog      = var.launch_route == "service-catalog"
  codecommit_repository    = "arn:${local.partition}:codecommit:${local.region}:${local.account_id}:*"
  vending_log_group_name   = "/aws/codebuild/${local.vending_project_name}"
  permissions_boundary_arn = var.permissions_boundary_arn

  vending_environment = {
    TEMPLATE_BUCKET     = aws_s3_bucket.templates.bucket
    SOURCE_BUNDLE_KEY   = local.source_bundle_key
    TERRAFORM_VERSION   = var.terraform_version
    GITHUB_OWNER        = var.github_owner
    CONNECTION_ARN      = var.connection_arn
    VPC_ID              = var.vpc_id
    PRIVATE_SUBNET_IDS  = join(",", var.private_subnet_ids)
    ROUTE_TABLE_IDS     = join(",", var.route_table_ids)
    STATE_BUCKET        = var.state_bucket_name
    GITHUB_TOKEN_SECRET = coalesce(var.github_token_secret_arn, "none")
  }
}

################################################################################
# Template bucket: launch templates and template source bundles, per release
################################################################################

resource "aws_s3_bucket" "templates" {
  #checkov:skip=CKV_AWS_144:Releases are rebuilt byte for byte from the template's git tag (hooks.bundle is reproducible); cross-region replication adds nothing a re-publish cannot restore.
  bucket = var.template_bucket_name

  tags = merge(var.tags, { Name = var.template_bucket_name, Purpose = "studio-launch-templates" })
}

resource "aws_s3_bucket_ownership_controls" "templates" {
  bucket = aws_s3_bucket.templates.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "templates" {
  bucket                  = aws_s3_bucket.templates.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "templates" {
  bucket = aws_s3_bucket.templates.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "templates" {
  bucket = aws_s3_bucket.templates.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "templates" {
  bucket = aws_s3_bucket.templates.id

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.templates]
}

resource "aws_s3_bucket_logging" "templates" {
  bucket        = aws_s3_bucket.templates.id
  target_bucket = var.access_log_bucket_name
  target_prefix = "${var.template_bucket_name}/"
}

resource "aws_s3_bucket_notification" "templates" {
  bucket      = aws_s3_bucket.templates.id
  eventbridge = true
}

data "aws_iam_policy_document" "templates" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.templates.arn, "${aws_s3_bucket.templates.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyTlsBelow12"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.templates.arn, "${aws_s3_bucket.templates.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "templates" {
  bucket = aws_s3_bucket.templates.id
  policy = data.aws_iam_policy_document.templates.json

  depends_on = [aws_s3_bucket_public_access_block.templates]
}

################################################################################
# Roles: launch (CloudFormation / Service Catalog), vending build, vending function
################################################################################

# The launch stack holds one custom resource: the role reads the template, resolves the function's ARN
# and invokes the function. Nothing else: the vending build makes the team's resources with its own role.
data "aws_iam_policy_document" "launch" {
  statement {
    sid = "LaunchStacks"
    actions = ["cloudformation:CreateStack", "cloudformation:DeleteStack", "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks", "cloudformation:GetTemplateSummary", "cloudformation:UpdateStack"]
    resources = ["arn:${local.partition}:cloudformation:${local.region}:${local.account_id}:stack/*"]
  }

  statement {
    sid       = "ValidateTemplate"
    actions   = ["cloudformation:ValidateTemplate"]
    resources = ["*"] # ValidateTemplate supports no resource-level permission
  }

  statement {
    sid       = "ReadTemplate"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.templates.arn}/releases/*"]
  }

  statement {
    sid       = "DecryptTemplate"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "ResolveFunctionArn"
    actions   = ["ssm:GetParameters"]
    resources = [aws_ssm_parameter.function_arn.arn]
  }

  statement {
    sid       = "InvokeVending"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.function.function_arn]
  }
}

module "launch_role" {
  source = "../service-role"

  name                     = "${var.name_prefix}-launch"
  description              = "ML Factory Studio launch: CloudFormation runs the launch template with this role"
  services                 = ["cloudformation.amazonaws.com", "servicecatalog.amazonaws.com"]
  policy_json              = data.aws_iam_policy_document.launch.json
  policy_name              = "launch-template"
  permissions_boundary_arn = local.permissions_boundary_arn
  tags                     = var.tags
}

data "aws_iam_policy_document" "vending" {
  statement {
    sid       = "WriteBuildLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.vending.arn}:*"]
  }

  statement {
    sid       = "ReadTemplateSource"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.templates.arn}/releases/*"]
  }

  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "TerraformState"
    actions   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket_name}/ml-factory/*"]
  }

  statement {
    sid       = "TerraformStateList"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket_name}"]
  }

  statement {
    sid = "CodeCommitRepositories"
    actions = ["codecommit:CreateRepository", "codecommit:DeleteRepository", "codecommit:GitPush",
    "codecommit:TagResource"]
    resources = [local.codecommit_repository]
  }

  dynamic "statement" {
    for_each = var.github_token_secret_arn == null ? [] : [var.github_token_secret_arn]

    content {
      sid       = "ReadGitHubToken"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }
}

module "vending_role" {
  source = "../service-role"

  name                     = "${var.name_prefix}-vending-build"
  description              = "ML Factory Studio launch: the vending build renders, creates the repo and applies dev"
  services                 = ["codebuild.amazonaws.com"]
  policy_json              = data.aws_iam_policy_document.vending.json
  policy_name              = "vending"
  permissions_boundary_arn = local.permissions_boundary_arn
  tags                     = var.tags
}

resource "aws_iam_role_policy_attachment" "terraform" {
  for_each = toset(var.terraform_policy_arns)

  role       = module.vending_role.name
  policy_arn = each.value
}

# The function's own grant; the lambda-function module adds its log group, the key and tracing.
data "aws_iam_policy_document" "function" {
  statement {
    sid       = "StartVending"
    actions   = ["codebuild:StartBuild"]
    resources = [aws_codebuild_project.vending.arn]
  }
}

################################################################################
# Vending build and the custom resource function
################################################################################

resource "aws_cloudwatch_log_group" "vending" {
  name              = local.vending_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = local.vending_log_group_name })
}

resource "aws_codebuild_project" "vending" {
  name           = local.vending_project_name
  description    = "ML Factory Studio launch: validate, render, create the team repo, apply dev, answer the stack"
  service_role   = module.vending_role.arn
  encryption_key = var.kms_key_arn
  build_timeout  = var.build_timeout_minutes
  queued_timeout = 5 # a launch that cannot start soon fails the stack rather than hang it

  artifacts {
    type = "NO_ARTIFACTS"
  }

  source {
    type      = "NO_SOURCE"
    buildspec = file("${path.module}/buildspec.yml")
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = "BUILD_GENERAL1_SMALL"
    image                       = var.build_image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    dynamic "environment_variable" {
      for_each = local.vending_environment

      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.vending.name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  tags = merge(var.tags, { Name = local.vending_project_name })
}

module "function" {
  source = "../lambda-function"

  function_name                  = local.function_name
  description                    = "ML Factory Studio launch: Custom::MlFactoryVending starts ${local.vending_project_name}"
  source_file                    = "${path.module}/lambda/start_vending.py"
  handler                        = "start_vending.handler"
  timeout                        = 30
  reserved_concurrent_executions = 5
  environment_variables          = { VENDING_PROJECT = aws_codebuild_project.vending.name }
  log_retention_days             = var.log_retention_days
  role_name                      = "${var.name_prefix}-vending-function"
  role_description               = "ML Factory Studio launch: the custom resource function starts the vending build"
  policy_json                    = data.aws_iam_policy_document.function.json
  kms_key_arn                    = var.kms_key_arn
  permissions_boundary_arn       = local.permissions_boundary_arn
  tags                           = var.tags
}

resource "aws_lambda_permission" "launch" {
  statement_id   = "LaunchStacksInvoke"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
  principal      = "cloudformation.amazonaws.com"
  source_account = local.account_id
}

resource "aws_ssm_parameter" "function_arn" {
  #checkov:skip=CKV2_AWS_34:A function ARN is an identifier, not a secret; the launch template resolves it as a plain String parameter.
  name        = local.function_arn_parameter
  description = "ML Factory Studio launch: the vending function the launch template's custom resource calls"
  type        = "String"
  value       = module.function.function_arn

  tags = merge(var.tags, { Name = local.function_arn_parameter })
}

################################################################################
# Service Catalog route
################################################################################

resource "aws_servicecatalog_portfolio" "this" {
  count = local.use_service_catalog ? 1 : 0

  name          = "${var.name_prefix}-portfolio"
  description   = "ML Factory project templates for SageMaker Studio"
  provider_name = "ML platform team"

  tags = merge(var.tags, { Name = "${var.name_prefix}-portfolio" })
}

resource "aws_servicecatalog_product" "this" {
  count = local.use_service_catalog ? 1 : 0

  name        = "ML Factory project"
  owner       = "ML platform team"
  type        = "CLOUD_FORMATION_TEMPLATE"
  description = "A team repo rendered from the ML Factory template, its dev stage and first pipeline run"

  provisioning_artifact_parameters {
    name                        = var.template_version
    description                 = "ML Factory template ${var.template_version}"
    template_url                = local.template_url
    type                        = "CLOUD_FORMATION_TEMPLATE"
    disable_template_validation = false
  }

  # Studio lists only products carrying this tag.
  tags = merge(var.tags, { Name = "${var.name_prefix}-product", "sagemaker:studio-visibility" = "true" })
}

resource "aws_servicecatalog_product_portfolio_association" "this" {
  count = local.use_service_catalog ? 1 : 0

  portfolio_id = aws_servicecatalog_portfolio.this[0].id
  product_id   = aws_servicecatalog_product.this[0].id
}

resource "aws_servicecatalog_principal_portfolio_association" "this" {
  for_each = local.use_service_catalog ? toset(var.studio_principal_arns) : toset([])

  portfolio_id  = aws_servicecatalog_portfolio.this[0].id
  principal_arn = each.value
}

resource "aws_servicecatalog_constraint" "launch" {
  count = local.use_service_catalog ? 1 : 0

  description  = "Launch ML Factory projects with ${module.launch_role.name}"
  portfolio_id = aws_servicecatalog_portfolio.this[0].id
  product_id   = aws_servicecatalog_product.this[0].id
  type         = "LAUNCH"
  parameters   = jsonencode({ RoleArn = module.launch_role.arn })

  depends_on = [aws_servicecatalog_product_portfolio_association.this]
}
