output "subnet_ids" {
  description = "Private subnet ids for SageMaker training and processing jobs (written to the subnet-ids SSM wiring parameter)."
  value       = var.private_subnet_ids
}

output "security_group_ids" {
  description = "Security group ids for SageMaker training and processing jobs (written to the security-group-ids SSM wiring parameter)."
  value       = [aws_security_group.jobs.id]
}

output "endpoint_security_group_id" {
  description = "Security group of the interface VPC endpoints."
  value       = aws_security_group.endpoints.id
}

output "s3_gateway_endpoint_id" {
  description = "ID of the S3 gateway VPC endpoint."
  value       = aws_vpc_endpoint.s3.id
}

output "interface_endpoint_ids" {
  description = "Map of service suffix (e.g. sagemaker.api) to interface VPC endpoint id."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "vpc_cidr_block" {
  description = "Primary CIDR block of the VPC, the only source and destination the security groups allow for HTTPS."
  value       = local.vpc_cidr
}
