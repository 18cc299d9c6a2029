output "sagemaker_execution_role_arn" {
  description = "ARN of the SageMaker execution role (written to the execution-role-arn SSM wiring parameter)."
  value       = module.role["sagemaker"].arn
}

output "sagemaker_execution_role_name" {
  description = "Name of the SageMaker execution role."
  value       = module.role["sagemaker"].name
}

output "codebuild_role_arn" {
  description = "ARN of the CodeBuild service role."
  value       = module.role["codebuild"].arn
}

output "codepipeline_role_arn" {
  description = "ARN of the CodePipeline service role."
  value       = module.role["codepipeline"].arn
}

output "events_role_arn" {
  description = "ARN of the EventBridge role that starts the pipeline on a CodeCommit push; null for GitHub."
  value       = try(module.role["events"].arn, null)
}

output "role_arns" {
  description = "Every role of the project stage, for key and bucket policies."
  value       = values(module.role)[*].arn
}

output "permissions_boundary_arn" {
  description = "ARN of the permissions boundary every role carries (created here unless passed in)."
  value       = local.permissions_boundary_arn
}
