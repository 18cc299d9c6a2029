variable "project" {
  description = "Project slug (3-32 lowercase letters, digits and hyphens); prefixes every name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "The project must be 3-32 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "stage" {
  description = "Deployment stage: dev, staging or prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "The stage must be one of dev, staging, prod."
  }
}

variable "vpc_id" {
  description = "ID of the existing VPC the SageMaker jobs run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (no route to an internet gateway) for training and processing jobs and the interface endpoints; use one per Availability Zone."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "The private_subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "route_table_ids" {
  description = "Route tables of the private subnets; the S3 gateway endpoint adds its route to each."
  type        = list(string)

  validation {
    condition     = length(var.route_table_ids) > 0 && alltrue([for id in var.route_table_ids : can(regex("^rtb-[0-9a-f]{8,17}$", id))])
    error_message = "The route_table_ids must hold at least one route table id (rtb-...)."
  }
}

variable "interface_endpoint_services" {
  description = "Service suffixes of the interface endpoints to create (com.amazonaws.<region>.<suffix>). Drop one the VPC already has."
  type        = set(string)
  default     = ["sagemaker.api", "sagemaker.runtime", "sts", "ecr.api", "ecr.dkr", "logs", "monitoring"]

  validation {
    condition     = alltrue([for service in var.interface_endpoint_services : can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)*$", service))])
    error_message = "The interface_endpoint_services must be service suffixes like sagemaker.api or ecr.dkr."
  }
}

variable "allow_job_to_job_traffic" {
  description = "Allow all traffic between members of the job security group. Needed only for multi-instance jobs, whose nodes talk to each other over XGBoost's collective (training, or the drift step with monitoring instance_count > 1); single-instance jobs need nothing but HTTPS to the endpoints."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
