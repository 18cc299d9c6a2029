output "template_bucket_name" {
  description = "Bucket holding the launch templates and source bundles (hooks.publish_studio_template --bucket)."
  value       = aws_s3_bucket.templates.bucket
}

output "template_url" {
  description = "HTTPS URL of this release's launch template (Service Catalog artifact and CreateProject TemplateURL)."
  value       = local.template_url
}

output "launch_role_arn" {
  description = "Role CloudFormation launches the template with (launch constraint; TemplateProviders RoleARN)."
  value       = module.launch_role.arn
}

output "vending_project_name" {
  description = "CodeBuild project of the vending job (its builds are the launches' logs)."
  value       = aws_codebuild_project.vending.name
}

output "vending_function_arn" {
  description = "Function serving the template's Custom::MlFactoryVending resource."
  value       = module.function.function_arn
}

output "function_arn_parameter_name" {
  description = "SSM parameter the launch template reads the function ARN from."
  value       = aws_ssm_parameter.function_arn.name
}

output "portfolio_id" {
  description = "Service Catalog portfolio id (null on the s3 route)."
  value       = local.use_service_catalog ? aws_servicecatalog_portfolio.this[0].id : null
}

output "product_id" {
  description = "Service Catalog product id (null on the s3 route)."
  value       = local.use_service_catalog ? aws_servicecatalog_product.this[0].id : null
}
