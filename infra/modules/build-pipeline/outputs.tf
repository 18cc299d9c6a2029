output "codepipeline_name" {
  description = "Name of the CodePipeline."
  value       = aws_codepipeline.this.name
}

output "codepipeline_arn" {
  description = "ARN of the CodePipeline."
  value       = aws_codepipeline.this.arn
}

output "codebuild_project_name" {
  description = "Name of the CodeBuild project."
  value       = aws_codebuild_project.this.name
}

output "codebuild_project_arn" {
  description = "ARN of the CodeBuild project."
  value       = aws_codebuild_project.this.arn
}

output "codebuild_log_group_name" {
  description = "CloudWatch Logs group of the build."
  value       = aws_cloudwatch_log_group.build.name
}

output "connection_arn" {
  description = "ARN of the GitHub connection the pipeline uses (created here unless passed in); null for CodeCommit. A created connection stays PENDING until completed once in the console."
  value       = local.connection_arn
}

output "connection_status" {
  description = "Status of the connection created here (PENDING until completed in the console); null when passed in or for CodeCommit."
  value       = one(aws_codestarconnections_connection.github[*].connection_status)
}
