variable "name_prefix" {
  description = "Prefix of every name this module creates (bucket excepted)."
  type        = string
  default     = "ml-factory-studio"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "The name_prefix must be 3-31 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "launch_route" {
  description = "How Studio users find the template: service-catalog (a product in a portfolio) or s3 (a tagged template object, launched with CreateProject TemplateProviders)."
  type        = string
  default     = "service-catalog"

  validation {
    condition     = contains(["service-catalog", "s3"], var.launch_route)
    error_message = "The launch_route must be service-catalog or s3."
  }
}

variable "template_bucket_name" {
  description = "Name of the bucket created for the launch template and the template source bundle."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.template_bucket_name))
    error_message = "The template_bucket_name must be a valid S3 bucket name."
  }
}

variable "template_version" {
  description = "Template release published to the bucket (hooks.publish_studio_template uploads it under releases/<version>/); the product version and the vending job use it."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$", var.template_version))
    error_message = "The template_version must be 1-64 letters, digits, dots, hyphens or underscores."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the template bucket, the vending build, its logs and the function's environment."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "access_log_bucket_name" {
  description = "Existing bucket receiving the template bucket's server access logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_name))
    error_message = "The access_log_bucket_name must be a valid S3 bucket name."
  }
}

variable "studio_principal_arns" {
  description = "IAM role ARNs of the Studio users (their execution roles) who may launch the product (Service Catalog route)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.studio_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "The studio_principal_arns must be IAM role ARNs."
  }
}

variable "github_owner" {
  description = "GitHub organisation that receives the teams' repositories (GitHub source provider)."
  type        = string
  default     = ""
}

variable "github_token_secret_arn" {
  description = "Secrets Manager secret holding the token (GitHub App installation or fine-grained) allowed to create repositories in github_owner; null for CodeCommit only."
  type        = string
  default     = null

  validation {
    condition     = var.github_token_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.github_token_secret_arn))
    error_message = "The github_token_secret_arn must be a Secrets Manager secret ARN or null."
  }
}

variable "connection_arn" {
  description = "CodeConnections connection to GitHub the teams' pipelines use (written into each launched repo's dev.tfvars)."
  type        = string
  default     = ""
}

variable "vpc_id" {
  description = "VPC of the launched dev stages (network module), written into each launched repo's dev.tfvars."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets of the launched dev stages (network module's subnet_ids)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "The private_subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "route_table_ids" {
  description = "Route tables of those subnets (for the S3 gateway endpoint of each dev stage)."
  type        = list(string)

  validation {
    condition     = alltrue([for id in var.route_table_ids : can(regex("^rtb-[0-9a-f]{8,17}$", id))])
    error_message = "The route_table_ids must be route table ids (rtb-...)."
  }
}

variable "state_bucket_name" {
  description = "Terraform state bucket of the dev account; each launch keeps its state under ml-factory/<project>/."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "The state_bucket_name must be a valid S3 bucket name."
  }
}

variable "terraform_policy_arns" {
  description = "Managed policies attached to the vending build for the team root module's dev apply (the platform's Terraform deploy policy); keep them within permissions_boundary_arn."
  type        = list(string)

  validation {
    condition     = alltrue([for arn in var.terraform_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", arn))])
    error_message = "The terraform_policy_arns must be IAM policy ARNs."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every role this module creates; null for none."
  type        = string
  default     = null
}

variable "terraform_version" {
  description = "Terraform version the vending build installs."
  type        = string
  default     = "1.14.3"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.terraform_version))
    error_message = "The terraform_version must be a version like 1.14.3."
  }
}

variable "build_image" {
  description = "CodeBuild image of the vending build (Python 3.11+ and git)."
  type        = string
  default     = "aws/codebuild/standard:7.0"
}

variable "build_timeout_minutes" {
  description = "Timeout of the vending build; the stack waits at most an hour (the custom resource's ServiceTimeout)."
  type        = number
  default     = 55

  validation {
    condition     = var.build_timeout_minutes >= 5 && var.build_timeout_minutes <= 58
    error_message = "The build_timeout_minutes must be between 5 and 58, inside the stack's one-hour wait."
  }
}

variable "log_retention_days" {
  description = "Retention of the vending build's and function's logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch retention of at least a year (365, 400, 545, 731, ...)."
  }
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
