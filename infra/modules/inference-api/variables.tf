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


variable "model_version" {
  description = "Model version the API reports; null reads it from the endpoint's current endpoint config (<project>-<stage>-v<version>)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets of the Lambda (the stage's; the VPC's sagemaker.runtime and sagemaker.api endpoints serve it)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "The subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the Lambda; they must allow HTTPS to the VPC's interface endpoints."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for id in var.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "The security_group_ids must hold at least one security group id (sg-...)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the Lambda's environment and every log group of the API."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the roles (the iam module's output permissions_boundary_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "api_clients" {
  description = "Client names; each gets an API key in the usage plan (read the key values in the console or with aws apigateway get-api-key --include-value)."
  type        = list(string)
  default     = ["default"]

  validation {
    condition     = length(var.api_clients) > 0 && alltrue([for name in var.api_clients : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", name))])
    error_message = "The api_clients must hold at least one name of lowercase letters, digits and hyphens."
  }
}

variable "throttle_rate_limit" {
  description = "Steady-state requests per second allowed per API key (usage plan)."
  type        = number
  default     = 1000

  validation {
    condition     = var.throttle_rate_limit > 0
    error_message = "The throttle_rate_limit must be positive."
  }
}

variable "throttle_burst_limit" {
  description = "Burst of requests allowed per API key (usage plan)."
  type        = number
  default     = 2000

  validation {
    condition     = var.throttle_burst_limit >= 1
    error_message = "The throttle_burst_limit must be at least 1."
  }
}

variable "stage_throttle_rate_limit" {
  description = "Requests per second for the whole API stage, all keys together (protects the endpoint)."
  type        = number
  default     = 5000

  validation {
    condition     = var.stage_throttle_rate_limit > 0
    error_message = "The stage_throttle_rate_limit must be positive."
  }
}

variable "stage_throttle_burst_limit" {
  description = "Burst for the whole API stage, all keys together."
  type        = number
  default     = 5000

  validation {
    condition     = var.stage_throttle_burst_limit >= 1
    error_message = "The stage_throttle_burst_limit must be at least 1."
  }
}

variable "api_stage_name" {
  description = "Name of the API Gateway stage (the first path segment of the invoke URL)."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.api_stage_name))
    error_message = "The api_stage_name must be 1-128 letters, digits, hyphens or underscores."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the Lambda, in MB (CPU scales with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "The lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the Lambda."
  type        = number
  default     = 100

  validation {
    condition     = var.lambda_reserved_concurrency >= 1
    error_message = "The lambda_reserved_concurrency must be at least 1."
  }
}

variable "manage_api_gateway_account" {
  description = "Create API Gateway's CloudWatch Logs role and set it on the account (one per account and region: true in exactly one stack, or set it outside). Stage logging fails until it is set."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days to keep the Lambda, access and WAF logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value (e.g. 365, 731)."
  }
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
