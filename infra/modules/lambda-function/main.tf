# A Python Lambda function of the project, packaged from one reviewed source file, with what every function
# of the library needs around it: its role (the service-role module: trusted by Lambda in this account, the
# permissions boundary), a KMS-encrypted log group with a retention, the environment encrypted with the
# project key, active X-Ray tracing, reserved concurrency, and optionally a VPC attachment.
#
# The role's policy is the caller's statements (policy_json) plus what the Lambda service does with the role
# (AWSLambdaBasicExecutionRole, AWSXRayDaemonWriteAccess and, in a VPC, AWSLambdaENIManagementAccess, each
# scoped here to this function's log group, the project key and the account's network interfaces).
# template_tests/test_iam_contract.py reads these statements for every module that calls this one.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  arn_suffix = "${local.region}:${local.account_id}"

  log_group_name     = "/aws/lambda/${var.function_name}"
  log_group_arn      = "arn:${local.partition}:logs:${local.arn_suffix}:log-group:${local.log_group_name}"
  network_interfaces = "arn:${local.partition}:ec2:${local.arn_suffix}:network-interface/*"
  in_vpc             = length(var.vpc_subnet_ids) > 0
}

################################################################################
# The role
################################################################################

data "aws_iam_policy_document" "runtime" {
  statement {
    sid       = "WriteFunctionLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:log-stream:*"]
  }

  statement {
    sid       = "DecryptEnvironment" # the environment is encrypted with the project key
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "WriteTraces" # X-Ray has no resource-level permissions
    effect    = "Allow"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "vpc" {
  count = local.in_vpc ? 1 : 0

  statement {
    sid       = "CreateNetworkInterfacesInVpc"
    effect    = "Allow"
    actions   = ["ec2:CreateNetworkInterface"]
    resources = [local.network_interfaces, "arn:${local.partition}:ec2:${local.arn_suffix}:subnet/*", "arn:${local.partition}:ec2:${local.arn_suffix}:security-group/*"]
  }

  statement {
    sid       = "ManageNetworkInterfaces"
    effect    = "Allow"
    actions   = ["ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"]
    resources = [local.network_interfaces]
  }

  statement {
    sid       = "DescribeNetwork" # EC2 Describe* actions have no resource-level permissions
    effect    = "Allow"
    actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "this" {
  source_policy_documents = concat([var.policy_json, data.aws_iam_policy_document.runtime.json], data.aws_iam_policy_document.vpc[*].json)
}

module "role" {
  source = "../service-role"

  name                     = coalesce(var.role_name, var.function_name)
  description              = var.role_description
  services                 = ["lambda.amazonaws.com"]
  policy_json              = data.aws_iam_policy_document.this.json
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

################################################################################
# The log group and the function
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = local.log_group_name })
}

data "archive_file" "this" {
  type        = "zip"
  source_file = var.source_file
  output_path = "${path.module}/.build/${var.function_name}.zip"
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:No dead-letter queue: the library's functions are called synchronously (API Gateway, CloudFormation) or by EventBridge and Scheduler, which retry, and every failure is in the KMS-encrypted log group.
  #checkov:skip=CKV_AWS_117:In a VPC where the caller passes vpc_subnet_ids (the inference API reaches its endpoint there); the other functions only call AWS APIs and need no network path to the VPC.
  #checkov:skip=CKV_AWS_272:No code signing: the package is built by Terraform from the reviewed source in the calling module, not uploaded by people.
  function_name                  = var.function_name
  description                    = var.description
  role                           = module.role.arn
  runtime                        = var.runtime
  handler                        = var.handler
  filename                       = data.archive_file.this.output_path
  source_code_hash               = data.archive_file.this.output_base64sha256
  timeout                        = var.timeout
  memory_size                    = var.memory_size
  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn

  dynamic "environment" {
    for_each = length(var.environment_variables) > 0 ? [var.environment_variables] : []

    content {
      variables = environment.value
    }
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []

    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  logging_config {
    log_format = var.log_format
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = merge(var.tags, { Name = var.function_name })

  depends_on = [module.role]
}
