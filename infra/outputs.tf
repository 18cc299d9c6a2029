output "ssm_prefix" {
  description = "SSM path of this stage's wiring parameters, read by pipelines/wiring.py."
  value       = module.sagemaker_project.ssm_prefix
}

output "wiring_parameter_names" {
  description = "Map of wiring key to SSM parameter name."
  value       = module.sagemaker_project.wiring_parameter_names
}

output "sagemaker_execution_role_arn" {
  description = "SageMaker execution role ARN."
  value       = module.iam.sagemaker_execution_role_arn
}

output "artifact_bucket_name" {
  description = "Artifact bucket name."
  value       = module.data_perimeter.artifact_bucket_name
}

output "data_bucket_name" {
  description = "Data bucket name."
  value       = module.data_perimeter.data_bucket_name
}

output "data_access_point_arns" {
  description = "Map of team slug to the ARN of its access point on the data bucket."
  value       = module.data_perimeter.access_point_arns
}

output "kms_key_arn" {
  description = "Customer-managed KMS key ARN."
  value       = module.kms.key_arn
}

output "model_package_group_name" {
  description = "Model Registry group name."
  value       = module.sagemaker_project.model_package_group_name
}

output "codepipeline_name" {
  description = "Name of the CodePipeline that builds on every merge."
  value       = module.build_pipeline.codepipeline_name
}

output "github_connection_arn" {
  description = "GitHub connection used by the pipeline (null for CodeCommit)."
  value       = module.build_pipeline.connection_arn
}

output "github_connection_status" {
  description = "PENDING until an administrator completes the created connection once in the console; null when passed in."
  value       = module.build_pipeline.connection_status
}

output "deploy_pipeline_name" {
  description = "Name of the CodePipeline that promotes approved models to staging and prod; null where deploy_target_accounts is empty."
  value       = one(module.deploy_pipeline[*].codepipeline_name)
}

output "deployer_role_arn" {
  description = "Deployer role that pipelines.deploy assumes for this stage; null where registry_account_id is unset."
  value       = one(module.deploy_target[*].deployer_role_arn)
}

output "inference_api_url" {
  description = "POST {\"features\": [...]} here (SigV4-signed, with an x-api-key); null where inference_api_enabled is false."
  value       = one(module.inference_api[*].invoke_url)
}

output "monitoring_alert_topic_arn" {
  description = "SNS topic told about drift and failed monitoring runs; null where the stage is not monitored."
  value       = one(module.monitoring[*].alert_topic_arn)
}

output "retrain_event_bus_arn" {
  description = "The registry stage's retrain bus, which the monitored stages forward their drift alarms to; null elsewhere."
  value       = one(module.monitoring[*].retrain_event_bus_arn)
}

