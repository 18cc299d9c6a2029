# The inference API of one stage: "consume the model from any client". A REST API (API Gateway)
# POST /predict -> a Python Lambda (lambda/handler.py) -> SageMaker InvokeEndpoint on the stage
# endpoint; {"features": [...]} answers {"prediction": 0.87, "model_version": "v23"}.
#
# Why REST and not an HTTP API: per-client throttling needs usage plans with API keys, and AWS WAF
# attaches to REST API stages; HTTP APIs have neither. Every call is signed (IAM authorization,
# SigV4) AND carries the client's API key: IAM decides who may call, the key's usage plan how fast
# (throttle_rate_limit, default 1,000 requests/s per key). The web ACL runs the AWS managed
# common (cross-site scripting among them), SQL-injection and known-bad-inputs rule sets. Access
# logs, execution logs, the Lambda's logs and WAF logs go to KMS-encrypted log groups; API Gateway
# and Lambda trace with X-Ray.
# template_tests/test_iam_contract.py holds the Lambda role's grants to uses (`role_policies`).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name          = "${var.project}-${var.stage}"
  api_name      = "${local.name}-inference-api"
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.region
  arn_suffix    = "${local.region}:${local.account_id}"
  endpoint_name = local.name # the stage endpoint pipelines.deploy creates: <project>-<stage>

  function_name    = local.api_name
  access_log_group = "/aws/apigateway/${local.api_name}"
  waf_log_group    = "aws-waf-logs-${local.api_name}" # WAF delivers only to groups named aws-waf-logs-*
  endpoint_arn     = "arn:${local.partition}:sagemaker:${local.arn_suffix}:endpoint/${local.endpoint_name}"

  role_policies = {
    inference_api = data.aws_iam_policy_document.lambda.json
  }
}

################################################################################
# Lambda
################################################################################

# The function's own grant; the lambda-function module adds its log group, the key, tracing and the VPC.
data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "InvokeStageEndpoint" # handler.py predict(); DescribeEndpoint reads the model version
    effect    = "Allow"
    actions   = ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"]
    resources = [local.endpoint_arn]
  }
}

module "function" {
  source = "../lambda-function"

  function_name                  = local.function_name
  description                    = "ML Factory ${local.name}: {\"features\": [...]} -> InvokeEndpoint ${local.endpoint_name}"
  source_file                    = "${path.module}/lambda/handler.py"
  handler                        = "handler.lambda_handler"
  timeout                        = 29 # API Gateway's integration timeout
  memory_size                    = var.lambda_memory_mb
  reserved_concurrent_executions = var.lambda_reserved_concurrency
  vpc_subnet_ids                 = var.subnet_ids
  vpc_security_group_ids         = var.security_group_ids
  log_format                     = "JSON"
  log_retention_days             = var.log_retention_days
  role_description               = "Inference API Lambda of ${local.name}: invoke the stage endpoint"
  policy_json                    = local.role_policies.inference_api
  kms_key_arn                    = var.kms_key_arn
  permissions_boundary_arn       = var.permissions_boundary_arn
  tags                           = var.tags

  environment_variables = merge(
    { ENDPOINT_NAME = local.endpoint_name },
    var.model_version == null ? {} : { MODEL_VERSION = var.model_version },
  )
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApiGatewayPredict"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/POST/predict"
}

################################################################################
# REST API: POST /predict, IAM-signed and keyed, body validated
################################################################################

resource "aws_api_gateway_rest_api" "this" {
  name        = local.api_name
  description = "ML Factory ${local.name}: predictions from the stage endpoint"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }

  tags = merge(var.tags, { Name = local.api_name })
}

resource "aws_api_gateway_resource" "predict" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "predict"
}

resource "aws_api_gateway_model" "features" {
  rest_api_id  = aws_api_gateway_rest_api.this.id
  name         = "Features"
  description  = "One row of raw feature values in the model's feature order"
  content_type = "application/json"
  schema = jsonencode({
    "$schema" = "http://json-schema.org/draft-04/schema#"
    type      = "object"
    required  = ["features"]
    properties = {
      features = { type = "array", minItems = 1, items = { type = ["number", "string", "boolean", "null"] } }
    }
  })
}

resource "aws_api_gateway_request_validator" "body" {
  rest_api_id           = aws_api_gateway_rest_api.this.id
  name                  = "body"
  validate_request_body = true
}

resource "aws_api_gateway_method" "predict" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.predict.id
  http_method          = "POST"
  authorization        = "AWS_IAM" # never unauthenticated: callers sign with SigV4
  api_key_required     = true      # and carry their key, whose usage plan throttles them
  request_validator_id = aws_api_gateway_request_validator.body.id
  request_models       = { "application/json" = aws_api_gateway_model.features.name }
}

resource "aws_api_gateway_integration" "predict" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.predict.id
  http_method             = aws_api_gateway_method.predict.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = module.function.invoke_arn
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.predict.id,
      aws_api_gateway_method.predict,
      aws_api_gateway_integration.predict,
      aws_api_gateway_model.features.schema,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = local.access_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = local.access_log_group })
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120:Every POST carries a new row to score; a response cache would serve stale or wrong predictions.
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to HTTP backends; this backend is a Lambda integration, authorised by IAM.
  #checkov:skip=CKV2_AWS_77:The web ACL has KnownBadInputs (Log4j; CKV_AWS_192 passes); this check also demands AnonymousIpList, whose HostingProviderIPList rule would block clients calling from cloud hosts.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.api_stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      requestTime    = "$context.requestTime"
      caller         = "$context.identity.caller"
      userArn        = "$context.identity.userArn"
      apiKeyId       = "$context.identity.apiKeyId"
      sourceIp       = "$context.identity.sourceIp"
      httpMethod     = "$context.httpMethod"
      resourcePath   = "$context.resourcePath"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latencyMs      = "$context.responseLatency"
      wafStatus      = "$context.waf.status"
      error          = "$context.error.message"
    })
  }

  tags = merge(var.tags, { Name = "${local.api_name}-${var.api_stage_name}" })

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Predictions must not be cached: each POST scores a new row.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false # request bodies (features) stay out of the logs
    caching_enabled        = false
    cache_data_encrypted   = true
    throttling_rate_limit  = var.stage_throttle_rate_limit
    throttling_burst_limit = var.stage_throttle_burst_limit
  }
}

################################################################################
# Per-client throttling: one API key per client, in one usage plan
################################################################################

resource "aws_api_gateway_usage_plan" "this" {
  name        = local.api_name
  description = "Per-key throttling of ${local.api_name}"

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  throttle_settings {
    rate_limit  = var.throttle_rate_limit
    burst_limit = var.throttle_burst_limit
  }

  tags = merge(var.tags, { Name = local.api_name })
}

resource "aws_api_gateway_api_key" "client" {
  for_each = toset(var.api_clients)

  name        = "${local.api_name}-${each.key}"
  description = "API key of client ${each.key}: throttled by the ${local.api_name} usage plan"
  enabled     = true

  tags = merge(var.tags, { Name = "${local.api_name}-${each.key}" })
}

resource "aws_api_gateway_usage_plan_key" "client" {
  for_each = aws_api_gateway_api_key.client

  key_id        = each.value.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this.id
}

################################################################################
# API Gateway's CloudWatch role (one per account and region; optional)
################################################################################

data "aws_iam_policy_document" "api_gateway_trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "api_gateway_logs" {
  count = var.manage_api_gateway_account ? 1 : 0

  name                 = "${local.name}-apigateway-logs"
  description          = "API Gateway writes the access and execution logs of this account and region"
  assume_role_policy   = data.aws_iam_policy_document.api_gateway_trust.json
  permissions_boundary = var.permissions_boundary_arn

  tags = merge(var.tags, { Name = "${local.name}-apigateway-logs" })
}

resource "aws_iam_role_policy_attachment" "api_gateway_logs" {
  count = var.manage_api_gateway_account ? 1 : 0

  role       = aws_iam_role.api_gateway_logs[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_logs[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_logs]
}

################################################################################
# WAF: AWS managed common (XSS), SQL-injection and known-bad-inputs rule sets
################################################################################

resource "aws_wafv2_web_acl" "this" {
  name        = local.api_name
  description = "Managed common (XSS), SQL-injection and known-bad-inputs rules for ${local.api_name}"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "AWSManagedRulesCommonRuleSet" # includes the cross-site scripting rules (CrossSiteScripting_*)
    priority = 10

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.api_name}-AWSManagedRulesCommonRuleSet"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "AWSManagedRulesSQLiRuleSet" # SQL injection
    priority = 20

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesSQLiRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.api_name}-AWSManagedRulesSQLiRuleSet"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet" # Log4j (CVE-2021-44228) and other known-bad inputs
    priority = 30

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.api_name}-AWSManagedRulesKnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = local.api_name
    sampled_requests_enabled   = true
  }

  tags = merge(var.tags, { Name = local.api_name })
}

resource "aws_wafv2_web_acl_association" "stage" {
  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

resource "aws_cloudwatch_log_group" "waf" {
  name              = local.waf_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(var.tags, { Name = local.waf_log_group })
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]
}
