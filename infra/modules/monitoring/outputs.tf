output "monitoring_pipeline_name" {
  description = "The monitoring pipeline the schedule starts (pipelines.monitor publishes it under this name)."
  value       = local.monitoring_pipeline_name
}

output "monitoring_schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule that starts the monitoring pipeline; null where monitor_endpoint is false."
  value       = one(aws_scheduler_schedule.monitor[*].arn)
}

output "alert_topic_arn" {
  description = "KMS-encrypted SNS topic told about drift (the composite alarm) and failed monitoring runs; null where monitor_endpoint is false."
  value       = one(aws_sns_topic.alerts[*].arn)
}

output "drift_alarm_names" {
  description = "Feature -> name of its drift alarm (<project>-<stage>-drift-<feature>)."
  value       = { for feature, alarm in aws_cloudwatch_metric_alarm.drift : feature => alarm.alarm_name }
}

output "drift_composite_alarm_name" {
  description = "The any-feature drift alarm (<project>-<stage>-drift) that notifies the alert topic; null without drift_features."
  value       = one(aws_cloudwatch_composite_alarm.drift[*].alarm_name)
}

output "retrain_event_bus_arn" {
  description = "The retrain event bus: give it to the monitored stages as retrain_event_bus_arn; null where continuous_training is false."
  value       = one(aws_cloudwatch_event_bus.retrain[*].arn)
}

output "retrain_function_name" {
  description = "The continuous-training Lambda (its log group holds one JSON line per decision); null where continuous_training is false."
  value       = one(module.retrain_function[*].function_name)
}

output "retrain_state_table_name" {
  description = "DynamoDB table holding when each pipeline's last retraining started, why, and its execution; null where continuous_training is false."
  value       = one(aws_dynamodb_table.retrain[*].name)
}

output "role_arns" {
  description = "ARNs of the module's roles (schedulers, forwarder, function), for the project key's policy."
  value       = concat(values(module.role)[*].arn, module.retrain_function[*].role_arn)
}
