output "artifact_bucket_name" {
  description = "Name of the artifact bucket (step code, models, reports, pipeline artifacts)."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "artifact_bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = aws_s3_bucket.this["artifacts"].arn
}

output "data_bucket_name" {
  description = "Name of the data bucket holding the team's input data."
  value       = aws_s3_bucket.this["data"].id
}

output "data_bucket_arn" {
  description = "ARN of the data bucket."
  value       = aws_s3_bucket.this["data"].arn
}

output "log_bucket_name" {
  description = "Name of the bucket receiving S3 server access logs."
  value       = aws_s3_bucket.logs.id
}

output "access_point_arns" {
  description = "Map of team slug to the ARN of its access point on the data bucket."
  value       = { for team, access_point in aws_s3_access_point.this : team => access_point.arn }
}

output "access_point_aliases" {
  description = "Map of team slug to the alias of its access point, usable wherever a bucket name is expected."
  value       = { for team, access_point in aws_s3_access_point.this : team => access_point.alias }
}
