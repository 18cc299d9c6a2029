# Private networking for SageMaker jobs in an existing VPC: an S3 gateway endpoint, interface
# endpoints for the APIs the jobs call (SageMaker API and runtime, STS, ECR, CloudWatch Logs),
# and two security groups that allow only HTTPS (443) inside the VPC CIDR.
#
# Training and processing jobs run in var.private_subnet_ids with the job security group.
# Network isolation and inter-container traffic encryption are set per job on the Python side
# (pipelines/), where the job type supports them.

data "aws_region" "current" {}

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  name     = "${var.project}-${var.stage}"
  region   = data.aws_region.current.region
  vpc_cidr = data.aws_vpc.this.cidr_block
}

################################################################################
# Security groups
################################################################################

resource "aws_security_group" "endpoints" {
  name        = "${local.name}-vpc-endpoints"
  description = "Interface VPC endpoints of ${local.name}: HTTPS from inside the VPC only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${local.name}-vpc-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from the VPC CIDR"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = local.vpc_cidr

  tags = merge(var.tags, { Name = "${local.name}-endpoints-https-in" })
}

resource "aws_security_group" "jobs" {
  #checkov:skip=CKV2_AWS_5:Attached at run time: SageMaker training and processing jobs receive this group through the security-group-ids SSM wiring parameter.
  name        = "${local.name}-sagemaker-jobs"
  description = "SageMaker training and processing jobs of ${local.name}: HTTPS to the VPC endpoints and S3 only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${local.name}-sagemaker-jobs" })
}

resource "aws_vpc_security_group_egress_rule" "jobs_https_vpc" {
  security_group_id = aws_security_group.jobs.id
  description       = "HTTPS to the interface endpoints inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = local.vpc_cidr

  tags = merge(var.tags, { Name = "${local.name}-jobs-https-vpc" })
}

resource "aws_vpc_security_group_egress_rule" "jobs_https_s3" {
  security_group_id = aws_security_group.jobs.id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id

  tags = merge(var.tags, { Name = "${local.name}-jobs-https-s3" })
}

resource "aws_vpc_security_group_ingress_rule" "jobs_from_jobs" {
  count = var.allow_job_to_job_traffic ? 1 : 0

  security_group_id            = aws_security_group.jobs.id
  description                  = "Distributed training: all traffic between nodes of the same job group"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.jobs.id

  tags = merge(var.tags, { Name = "${local.name}-jobs-from-jobs" })
}

resource "aws_vpc_security_group_egress_rule" "jobs_to_jobs" {
  count = var.allow_job_to_job_traffic ? 1 : 0

  security_group_id            = aws_security_group.jobs.id
  description                  = "Distributed training: all traffic between nodes of the same job group"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.jobs.id

  tags = merge(var.tags, { Name = "${local.name}-jobs-to-jobs" })
}

################################################################################
# VPC endpoints
################################################################################

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids

  tags = merge(var.tags, { Name = "${local.name}-s3" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = var.interface_endpoint_services

  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${local.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.private_subnet_ids
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true

  tags = merge(var.tags, { Name = "${local.name}-${replace(each.value, ".", "-")}" })
}
