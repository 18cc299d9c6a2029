output "deployer_role_arn" {
  description = "ARN of the deployer role that pipelines.deploy assumes for this stage."
  value       = aws_iam_role.deployer.arn
}

output "endpoint_name" {
  description = "Name of the stage endpoint the deployer may create and update, and the alarms watch."
  value       = local.endpoint_name
}

output "rollback_alarm_names" {
  description = "Map of alarm kind (5xx-errors, model-latency) to the CloudWatch alarm name the blue/green deployment rolls back on."
  value       = { for kind, alarm in aws_cloudwatch_metric_alarm.rollback : kind => alarm.alarm_name }
}
