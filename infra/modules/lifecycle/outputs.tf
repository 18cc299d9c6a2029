output "function_name" {
  description = "Name of the cleanup Lambda function (invoke it with {\"dry_run\": true} to list what it would do)."
  value       = aws_lambda_function.cleanup.function_name
}

output "function_arn" {
  description = "ARN of the cleanup Lambda function."
  value       = aws_lambda_function.cleanup.arn
}

output "log_group_name" {
  description = "CloudWatch Logs group holding the cleanup's action log (one JSON line per action)."
  value       = aws_cloudwatch_log_group.cleanup.name
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule that runs the cleanup."
  value       = aws_scheduler_schedule.cleanup.arn
}

output "role_arns" {
  description = "ARNs of the function's role and the schedule's role."
  value       = values(aws_iam_role.this)[*].arn
}
