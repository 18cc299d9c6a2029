output "function_name" {
  description = "Name of the cleanup Lambda function (invoke it with {\"dry_run\": true} to list what it would do)."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the cleanup Lambda function."
  value       = module.function.function_arn
}

output "log_group_name" {
  description = "CloudWatch Logs group holding the cleanup's action log (one JSON line per action)."
  value       = module.function.log_group_name
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule that runs the cleanup."
  value       = aws_scheduler_schedule.cleanup.arn
}

output "role_arns" {
  description = "ARNs of the function's role and the schedule's role."
  value       = [module.function.role_arn, module.scheduler_role.arn]
}
