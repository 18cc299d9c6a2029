output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN API Gateway integrations invoke the function with."
  value       = aws_lambda_function.this.invoke_arn
}

output "log_group_name" {
  description = "The function's KMS-encrypted CloudWatch Logs group."
  value       = aws_cloudwatch_log_group.this.name
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = module.role.arn
}
