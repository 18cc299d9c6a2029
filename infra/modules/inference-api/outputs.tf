output "invoke_url" {
  description = "POST {\"features\": [...]} here (SigV4-signed for execute-api, with the x-api-key header)."
  value       = "${aws_api_gateway_stage.this.invoke_url}/predict"
}

output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "api_key_ids" {
  description = "Map of client name to its API key id (the key value is read with aws apigateway get-api-key --include-value)."
  value       = { for client, key in aws_api_gateway_api_key.client : client => key.id }
}

output "function_name" {
  description = "Name of the inference Lambda."
  value       = module.function.function_name
}

output "lambda_role_arn" {
  description = "ARN of the Lambda's role, for the key policy."
  value       = module.function.role_arn
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL on the API stage."
  value       = aws_wafv2_web_acl.this.arn
}

output "log_group_names" {
  description = "Log groups of the Lambda, the access logs and WAF, for the key policy's CloudWatch Logs statement."
  value       = [module.function.log_group_name, aws_cloudwatch_log_group.access.name, aws_cloudwatch_log_group.waf.name]
}
