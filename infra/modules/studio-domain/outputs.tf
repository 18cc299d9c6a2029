output "domain_id" {
  description = "Id of the SageMaker domain."
  value       = aws_sagemaker_domain.this.id
}

output "domain_arn" {
  description = "ARN of the SageMaker domain."
  value       = aws_sagemaker_domain.this.arn
}

output "domain_url" {
  description = "Studio URL of the domain (IAM sign-in: open it from the console or with CreatePresignedDomainUrl)."
  value       = aws_sagemaker_domain.this.url
}

output "user_profile_arns" {
  description = "Map of team member to user profile ARN."
  value       = { for name, profile in aws_sagemaker_user_profile.member : name => profile.arn }
}

output "lifecycle_config_arn" {
  description = "ARN of the JupyterLab lifecycle configuration (internal CA bundle)."
  value       = aws_sagemaker_studio_lifecycle_config.jupyterlab.arn
}
