output "codepipeline_name" {
  description = "Name of the deploy pipeline."
  value       = aws_codepipeline.this.name
}

output "codepipeline_arn" {
  description = "ARN of the deploy pipeline."
  value       = aws_codepipeline.this.arn
}

output "event_rule_name" {
  description = "Name of the EventBridge rule that starts the pipeline on an Approved package of the group."
  value       = aws_cloudwatch_event_rule.approved.name
}

output "approval_topic_arn" {
  description = "ARN of the SNS topic announcing that a prod deployment waits for approval."
  value       = aws_sns_topic.approval.arn
}

output "codebuild_log_group_name" {
  description = "CloudWatch Logs group of the deploy and smoke-test builds."
  value       = aws_cloudwatch_log_group.build.name
}

output "deploy_codebuild_role_arn" {
  description = "ARN of the deploy CodeBuild role: the principal each stage's deployer role trusts."
  value       = module.role["deploy_codebuild"].arn
}

output "role_arns" {
  description = "Every role of the deploy pipeline, for the key policy."
  value       = values(module.role)[*].arn
}
