output "tracking_server_arn" {
  description = "ARN of the MLflow tracking server: the MLflow tracking URI of cloud runs (through the sagemaker-mlflow plugin), and the wiring key mlflow-tracking-server-arn."
  value       = aws_sagemaker_mlflow_tracking_server.this.arn
}

output "tracking_server_name" {
  description = "Name of the MLflow tracking server (<project>-<stage>)."
  value       = aws_sagemaker_mlflow_tracking_server.this.tracking_server_name
}

output "artifact_store_uri" {
  description = "Where the server keeps run artifacts and models."
  value       = aws_sagemaker_mlflow_tracking_server.this.artifact_store_uri
}

output "role_arn" {
  description = "ARN of the role the tracking server acts with."
  value       = module.role.arn
}
