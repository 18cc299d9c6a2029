output "model_package_group_name" {
  description = "Name of the SageMaker Model Registry group."
  value       = aws_sagemaker_model_package_group.this.model_package_group_name
}

output "model_package_group_arn" {
  description = "ARN of the SageMaker Model Registry group."
  value       = aws_sagemaker_model_package_group.this.arn
}

output "ssm_prefix" {
  description = "SSM path holding this stage's wiring parameters (/ml-factory/<project>/<stage>)."
  value       = local.ssm_prefix
}

output "wiring_parameter_names" {
  description = "Map of wiring key to the full name of its SSM parameter."
  value       = { for key, parameter in aws_ssm_parameter.wiring : key => parameter.name }
}

output "wiring_parameter_arns" {
  description = "ARNs of the wiring SSM parameters."
  value       = [for parameter in aws_ssm_parameter.wiring : parameter.arn]
}
