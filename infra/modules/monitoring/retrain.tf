# Continuous training, where the training pipeline runs (continuous_training = true): the retrain event bus, the
# Lambda (lambda/continuous_training.py), its cool-down table and its three triggers. See main.tf.

locals {
  retrain_name        = "${local.name}-retrain"
  quiet_schedule_name = "${local.name}-new-data"
  data_prefix         = coalesce(var.data_prefix, "${var.project}/input/")

  training_pipeline_arn = "arn:${local.partition}:sagemaker:${local.arn_suffix}:pipeline/${var.training_pipeline_name}"
  training_runs_arn     = "${local.training_pipeline_arn}/execution/*"
  packages_arn          = "arn:${local.partition}:sagemaker:${local.arn_suffix}:model-package/${var.model_package_group_name}/*"
  state_table_arn       = "arn:${local.partition}:dynamodb:${local.arn_suffix}:table/${local.retrain_name}"
  quiet_schedule_arn    = "arn:${local.partition}:scheduler:${local.arn_suffix}:schedule/${local.retrain_name}/${local.quiet_schedule_name}"
  retrain_scheduler_arn = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-retrain-scheduler"
  retrain_function_arn  = "arn:${local.partition}:lambda:${local.arn_suffix}:function:${local.retrain_name}"

  # Whose drift alarms start retraining: alarm name prefix -> the stage and where its monitoring reports are.
  drift_sources = {
    for stage, account in var.drift_source_accounts : "${var.project}-${stage}-drift-" => {
      stage   = stage
      reports = lookup(var.monitoring_reports_uris, stage, "s3://${var.project}-${stage}-artifacts-${account}/${var.project}/monitoring/${stage}/")
    }
  }
  drift_accounts = sort(distinct(values(var.drift_source_accounts)))

  retrain_rules = { for key, rule in {
    drift = {
      enabled     = var.continuous_training && length(var.drift_source_accounts) > 0
      bus         = "retrain"
      description = "Drift alarms of ${join(", ", sort(keys(var.drift_source_accounts)))} going to ALARM: retrain"
      pattern = templatefile("${path.module}/event-patterns/drift-alarm.json.tftpl", {
        accounts            = jsonencode(local.drift_accounts)
        alarm_name_prefixes = jsonencode([for prefix in sort(keys(local.drift_sources)) : { prefix = prefix }])
      })
    }
    new-data = {
      enabled     = var.continuous_training && var.retrain_on_new_data
      bus         = "default"
      description = "Objects created under s3://${coalesce(var.data_bucket_name, "-")}/${local.data_prefix}: retrain once quiet"
      pattern = templatefile("${path.module}/event-patterns/object-created.json.tftpl", {
        bucket_name = coalesce(var.data_bucket_name, "-")
        key_prefix  = local.data_prefix
      })
    }
    recorded = {
      enabled     = var.continuous_training
      bus         = "default"
      description = "A run of ${var.training_pipeline_name} succeeded: record why on the version a retrain registered"
      pattern     = templatefile("${path.module}/event-patterns/training-succeeded.json.tftpl", { pipeline_arn = local.training_pipeline_arn })
    }
  } : key => rule if rule.enabled }
}

# The function's own grants; the lambda-function module adds its log group, the key and tracing.
data "aws_iam_policy_document" "retrain" {
  statement {
    sid       = "StartTrainingPipeline"
    effect    = "Allow"
    actions   = ["sagemaker:StartPipelineExecution"]
    resources = [local.training_pipeline_arn]
  }

  statement {
    sid       = "ReadTrainingRuns" # after a run: its description (the record) and its RegisterModel step
    effect    = "Allow"
    actions   = ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"]
    resources = [local.training_runs_arn]
  }

  statement {
    sid       = "ReadAndAnnotatePackages" # the approved model's baseline and champion; why a version was trained
    effect    = "Allow"
    actions   = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"]
    resources = [local.packages_arn]
  }

  statement {
    sid       = "CoolDownState"
    effect    = "Allow"
    actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [local.state_table_arn]
  }

  statement {
    sid       = "WaitForQuietData" # the one-time schedule new data moves
    effect    = "Allow"
    actions   = ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"]
    resources = [local.quiet_schedule_arn]
  }

  statement {
    sid       = "PassScheduleRole"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [local.retrain_scheduler_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "retrain_scheduler" {
  source_policy_documents = [data.aws_iam_policy_document.project_key.json] # the retrain schedule

  statement {
    sid       = "InvokeContinuousTraining"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.retrain_function_arn]
  }
}

################################################################################
# The cool-down state and the function
################################################################################

resource "aws_dynamodb_table" "retrain" {
  count = var.continuous_training ? 1 : 0

  name         = local.retrain_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pipeline" # one item per pipeline: when its last retraining started, why, and the execution

  attribute {
    name = "pipeline"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = merge(var.tags, { Name = local.retrain_name })
}

module "retrain_function" {
  source = "../lambda-function"
  count  = var.continuous_training ? 1 : 0

  function_name                  = local.retrain_name
  description                    = "ML Factory ${local.name}: start ${var.training_pipeline_name} on drift, schedule or new data, once per ${var.retrain_cool_down_hours} h"
  source_file                    = "${path.module}/lambda/continuous_training.py"
  handler                        = "continuous_training.handler"
  timeout                        = 60
  memory_size                    = 256
  reserved_concurrent_executions = 2 # a 500-file upload queues (EventBridge retries throttled events), it does not fan out
  role_description               = local.all_roles.retrain.description
  policy_json                    = local.role_policies.retrain
  kms_key_arn                    = var.kms_key_arn
  log_retention_days             = var.log_retention_days
  permissions_boundary_arn       = var.permissions_boundary_arn
  tags                           = var.tags

  environment_variables = {
    PROJECT             = var.project
    PIPELINE_NAME       = var.training_pipeline_name
    MODEL_PACKAGE_GROUP = var.model_package_group_name
    STATE_TABLE         = local.retrain_name
    COOL_DOWN_HOURS     = tostring(var.retrain_cool_down_hours)
    QUIET_MINUTES       = tostring(var.new_data_quiet_minutes)
    SCHEDULE_GROUP      = local.retrain_name
    QUIET_SCHEDULE      = local.quiet_schedule_name
    SCHEDULER_ROLE_ARN  = local.retrain_scheduler_arn
    DATA_URI            = "s3://${coalesce(var.data_bucket_name, "-")}/${local.data_prefix}"
    DRIFT_SOURCES       = jsonencode(local.drift_sources)
  }
}

################################################################################
# Triggers: drift (the retrain bus), new data and finished runs (the default bus), a schedule
################################################################################

resource "aws_cloudwatch_event_bus" "retrain" {
  count = var.continuous_training ? 1 : 0

  name               = local.retrain_name
  description        = "Drift alarms of ${var.project}'s stages, forwarded from their accounts: they start retraining"
  kms_key_identifier = var.kms_key_arn # rules and targets; AWS service events (the alarms) use an AWS owned key

  tags = merge(var.tags, { Name = local.retrain_name })
}

data "aws_iam_policy_document" "retrain_bus" {
  count = var.continuous_training && length(local.drift_accounts) > 0 ? 1 : 0

  statement {
    sid       = "StagesForwardDriftAlarms"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.retrain[0].arn]

    principals {
      type        = "AWS"
      identifiers = [for account in local.drift_accounts : "arn:${local.partition}:iam::${account}:root"]
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "retrain" {
  count = var.continuous_training && length(local.drift_accounts) > 0 ? 1 : 0

  event_bus_name = aws_cloudwatch_event_bus.retrain[0].name
  policy         = data.aws_iam_policy_document.retrain_bus[0].json
}

resource "aws_cloudwatch_event_rule" "retrain" {
  for_each = local.retrain_rules

  name           = "${local.retrain_name}-on-${each.key}"
  description    = each.value.description
  event_bus_name = each.value.bus == "retrain" ? aws_cloudwatch_event_bus.retrain[0].name : "default"
  event_pattern  = each.value.pattern

  tags = merge(var.tags, { Name = "${local.retrain_name}-on-${each.key}" })

  lifecycle {
    precondition {
      condition     = each.key != "new-data" || var.data_bucket_name != null
      error_message = "Retraining on new data needs data_bucket_name (or set retrain_on_new_data = false)."
    }
  }
}

resource "aws_cloudwatch_event_target" "retrain" {
  for_each = local.retrain_rules

  rule           = aws_cloudwatch_event_rule.retrain[each.key].name
  event_bus_name = aws_cloudwatch_event_rule.retrain[each.key].event_bus_name
  target_id      = "continuous-training"
  arn            = module.retrain_function[0].function_arn

  retry_policy {
    maximum_event_age_in_seconds = 86400 # throttled while a large upload queues: keep retrying for a day
    maximum_retry_attempts       = 185
  }
}

resource "aws_lambda_permission" "retrain" {
  for_each = local.retrain_rules

  statement_id  = "eventbridge-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.retrain_function[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.retrain[each.key].arn
}

resource "aws_scheduler_schedule_group" "retrain" {
  count = var.continuous_training ? 1 : 0

  name = local.retrain_name # the retrain schedule and the one-time schedule new data moves

  tags = merge(var.tags, { Name = local.retrain_name })
}

resource "aws_scheduler_schedule" "retrain" {
  count = var.continuous_training && var.retrain_schedule_expression != null ? 1 : 0

  name                = local.retrain_name
  group_name          = aws_scheduler_schedule_group.retrain[0].name
  description         = "Retrain ${var.training_pipeline_name} on a schedule (the cool-down still applies)"
  schedule_expression = var.retrain_schedule_expression
  kms_key_arn         = var.kms_key_arn

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 15
  }

  target {
    arn      = module.retrain_function[0].function_arn
    role_arn = module.role["retrain_scheduler"].arn
    input    = jsonencode({ trigger = "schedule" })

    retry_policy {
      maximum_retry_attempts = 2
    }
  }
}
