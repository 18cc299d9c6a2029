variable "domain_name" {
  description = "Name of the SageMaker domain."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.domain_name))
    error_message = "The domain_name must be 1-63 letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "vpc_id" {
  description = "VPC of the domain (the network module's VPC)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the domain (the network module's subnet_ids output); VPC-only traffic leaves through them."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "The subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the domain's apps (the network module's security_group_ids output)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for id in var.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "The security_group_ids must hold at least one security group id (sg-...)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the domain's storage (home EFS and space volumes)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "execution_role_arn" {
  description = "The team's SageMaker execution role (iam module), the default of the domain, its spaces and every user profile."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "The execution_role_arn must be an IAM role ARN."
  }
}

variable "team_members" {
  description = "User profile names, one per team member (letters, digits and hyphens)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.team_members : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", name))])
    error_message = "Each team member must be a user profile name of 1-63 letters, digits and hyphens."
  }
}

variable "idle_timeout_minutes" {
  description = "Minutes a JupyterLab app may sit idle before the domain shuts it down."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout_minutes >= 60 && var.idle_timeout_minutes <= 525600
    error_message = "The idle_timeout_minutes must be between 60 and 525600, SageMaker's range."
  }
}

variable "ca_bundle_pem" {
  description = "Internal CA certificates (PEM) the lifecycle configuration adds to pip, git, requests and the AWS SDKs; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.ca_bundle_pem == null || can(regex("-----BEGIN CERTIFICATE-----", var.ca_bundle_pem))
    error_message = "The ca_bundle_pem must hold PEM certificates (-----BEGIN CERTIFICATE-----) or be null."
  }
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
