# Drift monitoring and continuous training of one project stage.
#
# Where the endpoint is served (monitor_endpoint): EventBridge Scheduler starts the monitoring pipeline
# `<project>-monitor-<stage>` (pipelines/monitoring), which publishes Model Monitor's per-feature metrics
# (pipelines/monitoring/names.py: namespace aws/sagemaker/Endpoints/data-metrics, feature_baseline_drift_<feature>,
# dimensions Endpoint and MonitoringSchedule). One alarm per listed feature watches its metric; a composite alarm
# `<project>-<stage>-drift` (any feature) and an alarm on failed monitoring runs notify the KMS-encrypted alert
# topic. A feature alarm going to ALARM is forwarded to the registry stage's retrain event bus.
#
# Where the training pipeline runs (continuous_training, retrain.tf): the retrain bus receives the stages' drift
# alarms; a Python Lambda (lambda/continuous_training.py) starts the training pipeline for drift, a schedule or new
# data, at most once per cool-down (a conditional write in DynamoDB), and records why on the execution and, once
# it registered a version, in the version's metadata.
# template_tests/test_iam_contract.py holds every grant here to a call the function's tests make.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = "${var.project}-${var.stage}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  arn_suffix = "${local.region}:${local.account_id}"

  # Names the Python side spells too: the endpoint (pipelines.deploy), the monitoring pipeline and the
  # MonitoringSchedule dimension its metrics carry (pipelines/monitoring). template_tests hold them together.
  endpoint_name            = local.name
  monitoring_pipeline_name = "${var.project}-monitor-${var.stage}"
  monitoring_schedule      = "${local.endpoint_name}-drift"
  metric_namespace         = "aws/sagemaker/Endpoints/data-metrics"
  drift_metric_prefix      = "feature_baseline_drift_"
  drift_alarm_prefix       = "${local.name}-drift-" # + feature; the composite is <name>-drift

  monitoring_pipeline_arn = "arn:${local.partition}:sagemaker:${local.arn_suffix}:pipeline/${local.monitoring_pipeline_name}"
  monitored               = var.monitor_endpoint
  forwarding              = var.monitor_endpoint && var.retrain_event_bus_arn != null
  drift_alarms            = local.monitored ? toset(var.drift_features) : toset([])

  all_roles = {
    monitor_scheduler = { name = "${local.name}-monitor-scheduler", service = "scheduler.amazonaws.com", enabled = local.monitored, description = "EventBridge Scheduler role of ${local.name}: start the monitoring pipeline" }
    drift_forwarder   = { name = "${local.name}-drift-forwarder", service = "events.amazonaws.com", enabled = local.forwarding, description = "EventBridge role of ${local.name}: forward drift alarms to the retrain bus" }
    retrain           = { name = "${local.name}-retrain", service = "lambda.amazonaws.com", enabled = var.continuous_training, description = "Continuous training of ${local.name}: start the training pipeline once per cool-down" }
    retrain_scheduler = { name = "${local.name}-retrain-scheduler", service = "scheduler.amazonaws.com", enabled = var.continuous_training, description = "EventBridge Scheduler role of ${local.name}: invoke the continuous-training Lambda" }
  }
  roles = { for key, role in local.all_roles : key => role if role.enabled }
  role_policies = {
    monitor_scheduler = data.aws_iam_policy_document.monitor_scheduler.json
    drift_forwarder   = local.forwarding ? data.aws_iam_policy_document.drift_forwarder[0].json : null
    retrain           = data.aws_iam_policy_document.retrain.json
    retrain_scheduler = data.aws_iam_policy_document.retrain_scheduler.json
  }
}

################################################################################
# Roles
################################################################################

# The schedules are encrypted with the project key: their roles decrypt with that key only.
data "aws_iam_policy_document" "project_key" {
  statement {
    sid       = "DecryptWithProjectKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

data "aws_iam_policy_document" "monitor_scheduler" {
  source_policy_documents = [data.aws_iam_policy_document.project_key.json] # the schedule is encrypted with it

  statement {
    sid       = "StartMonitoringPipeline"
    effect    = "Allow"
    actions   = ["sagemaker:StartPipelineExecution"]
    resources = [local.monitoring_pipeline_arn]
  }
}

data "aws_iam_policy_document" "drift_forwarder" {
  count = local.forwarding ? 1 : 0

  statement {
    sid       = "ForwardToRetrainBus"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [var.retrain_event_bus_arn]
  }
}

# The function's role is the lambda-function module's (retrain.tf); the schedulers and the forwarder are these.
module "role" {
  source   = "../service-role"
  for_each = { for key, role in local.roles : key => role if role.service != "lambda.amazonaws.com" }

  name                     = each.value.name
  description              = each.value.description
  services                 = [each.value.service]
  policy_json              = local.role_policies[each.key]
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

################################################################################
# The monitoring schedule
################################################################################

resource "aws_scheduler_schedule" "monitor" {
  count = local.monitored ? 1 : 0

  name                = "${local.name}-monitor"
  description         = "Start ${local.monitoring_pipeline_name}: check ${local.endpoint_name}'s captured traffic for drift"
  schedule_expression = var.monitoring_schedule_expression
  kms_key_arn         = var.kms_key_arn

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 5
  }

  target {
    arn      = local.monitoring_pipeline_arn # SageMaker StartPipelineExecution, the pipeline's default parameters
    role_arn = module.role["monitor_scheduler"].arn

    retry_policy {
      maximum_retry_attempts = 2 # the next scheduled run reads the window since the last one
    }
  }

  depends_on = [module.role]
}

################################################################################
# Alerts: a KMS-encrypted topic
################################################################################

resource "aws_sns_topic" "alerts" {
  count = local.monitored ? 1 : 0

  name              = "${local.name}-monitoring-alerts"
  display_name      = "ML Factory ${local.name}: drift and monitoring alerts"
  kms_master_key_id = var.kms_key_arn # the key policy lets CloudWatch alarms use it (kms module)

  tags = merge(var.tags, { Name = "${local.name}-monitoring-alerts" })
}

resource "aws_sns_topic_subscription" "alerts" {
  for_each = local.monitored ? { for s in var.alert_subscriptions : "${s.protocol}:${s.endpoint}" => s } : {}

  topic_arn = aws_sns_topic.alerts[0].arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

################################################################################
# Drift alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "drift" {
  for_each = local.drift_alarms

  alarm_name          = "${local.drift_alarm_prefix}${each.key}"
  alarm_description   = "Drift of ${each.key} on ${local.endpoint_name}: the L-infinity distance of its distribution from the baseline exceeds ${lookup(var.drift_thresholds, each.key, var.drift_threshold)}"
  namespace           = local.metric_namespace
  metric_name         = "${local.drift_metric_prefix}${each.key}"
  statistic           = "Maximum"
  period              = var.drift_alarm_period_seconds
  evaluation_periods  = var.drift_alarm_periods
  datapoints_to_alarm = var.drift_alarm_periods
  threshold           = lookup(var.drift_thresholds, each.key, var.drift_threshold)
  comparison_operator = "GreaterThanThreshold"
  # A period without a monitoring result (no traffic captured, or the run failed: its own alarm says so) is no
  # evidence of drift: the alarm returns to OK, so the next drift is a new state change that can retrain.
  treat_missing_data = "notBreaching"

  dimensions = {
    Endpoint           = local.endpoint_name
    MonitoringSchedule = local.monitoring_schedule
  }

  tags = merge(var.tags, { Name = "${local.drift_alarm_prefix}${each.key}" })
}

resource "aws_cloudwatch_composite_alarm" "drift" {
  count = length(local.drift_alarms) > 0 ? 1 : 0

  alarm_name        = "${local.name}-drift"
  alarm_description = "Drift on ${local.endpoint_name}: any of ${length(local.drift_alarms)} feature alarms (${local.drift_alarm_prefix}<feature>); the state reason names the feature"
  alarm_rule        = join(" OR ", [for f in sort(tolist(local.drift_alarms)) : "ALARM(${jsonencode(aws_cloudwatch_metric_alarm.drift[f].alarm_name)})"])
  alarm_actions     = [aws_sns_topic.alerts[0].arn]
  ok_actions        = [aws_sns_topic.alerts[0].arn]

  tags = merge(var.tags, { Name = "${local.name}-drift" })
}

resource "aws_cloudwatch_metric_alarm" "monitor_failed" {
  count = local.monitored ? 1 : 0

  alarm_name          = "${local.name}-monitor-failed"
  alarm_description   = "A run of ${local.monitoring_pipeline_name} failed: drift on ${local.endpoint_name} is not being checked"
  namespace           = "AWS/Sagemaker/ModelBuildingPipeline"
  metric_name         = "ExecutionFailed"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts[0].arn]

  dimensions = {
    PipelineName = local.monitoring_pipeline_name
  }

  tags = merge(var.tags, { Name = "${local.name}-monitor-failed" })
}

################################################################################
# Drift starts retraining: forward the feature alarms to the registry stage's retrain bus
################################################################################

resource "aws_cloudwatch_event_rule" "drift" {
  count = local.forwarding ? 1 : 0

  name        = "${local.name}-drift-to-retrain"
  description = "Forward ${local.drift_alarm_prefix}<feature> alarms going to ALARM to the retrain bus"
  event_pattern = templatefile("${path.module}/event-patterns/drift-alarm.json.tftpl", {
    accounts            = jsonencode([local.account_id])
    alarm_name_prefixes = jsonencode([{ prefix = local.drift_alarm_prefix }])
  })

  tags = merge(var.tags, { Name = "${local.name}-drift-to-retrain" })
}

resource "aws_cloudwatch_event_target" "drift" {
  count = local.forwarding ? 1 : 0

  rule      = aws_cloudwatch_event_rule.drift[0].name
  target_id = "retrain-bus"
  arn       = var.retrain_event_bus_arn
  role_arn  = module.role["drift_forwarder"].arn
}
