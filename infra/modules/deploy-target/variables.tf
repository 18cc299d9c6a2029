variable "project" {
  description = "Project slug (3-32 lowercase letters, digits and hyphens); prefixes every name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "The project must be 3-32 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "stage" {
  description = "Stage this account serves (the endpoint is <project>-<stage>): staging or prod, or dev for a single-account trial."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "The stage must be one of dev, staging, prod."
  }
}


variable "registry_account_id" {
  description = "Account of the Model Registry and its deploy pipeline (the stage stack with deploy_target_accounts set). May equal this account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.registry_account_id))
    error_message = "The registry_account_id must be a 12-digit AWS account id."
  }
}

variable "deploy_codebuild_role_arn" {
  description = "ARN of the registry account's deploy CodeBuild role (deploy-pipeline output deploy_codebuild_role_arn): the only principal that may assume the deployer role."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.deploy_codebuild_role_arn))
    error_message = "The deploy_codebuild_role_arn must be an IAM role ARN."
  }
}

variable "registry_model_package_group_name" {
  description = "Model package group in the registry account whose packages this stage deploys."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.registry_model_package_group_name))
    error_message = "The registry_model_package_group_name must be 1-63 letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "registry_artifact_bucket_name" {
  description = "Artifact bucket of the registry account, holding the packages' model data, inference code and held-out rows."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.registry_artifact_bucket_name))
    error_message = "The registry_artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "artifact_bucket_name" {
  description = "This stage's artifact bucket: `python -m pipelines.monitor publish` (or a deploy with monitoring.on_deploy) uploads the monitoring step's code under <project>/code/ in it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "The artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "model_execution_role_name" {
  description = "Name of this stage's SageMaker execution role (iam module): the deployer passes it to CreateModel, and it gains read access to the registry's model artifacts."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.model_execution_role_name))
    error_message = "The model_execution_role_name must be an IAM role name."
  }
}

variable "kms_key_alias" {
  description = "Alias of this stage's project KMS key, which encrypts the endpoint volumes and the captured data; the deployer's key grants are scoped to it."
  type        = string

  validation {
    condition     = can(regex("^alias/[A-Za-z0-9/_-]{1,250}$", var.kms_key_alias)) && !startswith(var.kms_key_alias, "alias/aws/")
    error_message = "The kms_key_alias must look like alias/<name> and must not start with alias/aws/."
  }
}

variable "variant_name" {
  description = "Production variant of the stage endpoint that the rollback alarms watch (pipelines.deploy names it)."
  type        = string
  default     = "AllTraffic"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "The variant_name must be 1-63 letters, digits and hyphens."
  }
}

variable "rollback_5xx_errors_per_minute" {
  description = "Invocation 5XX errors in one minute that fire the 5XX rollback alarm."
  type        = number
  default     = 5

  validation {
    condition     = var.rollback_5xx_errors_per_minute >= 1
    error_message = "The rollback_5xx_errors_per_minute must be at least 1."
  }
}

variable "rollback_model_latency_p99_ms" {
  description = "p99 model latency, in milliseconds, that fires the latency rollback alarm."
  type        = number
  default     = 500

  validation {
    condition     = var.rollback_model_latency_p99_ms > 0 && var.rollback_model_latency_p99_ms <= 60000
    error_message = "The rollback_model_latency_p99_ms must be between 1 and 60000."
  }
}

variable "rollback_evaluation_minutes" {
  description = "Consecutive breaching minutes before a rollback alarm fires."
  type        = number
  default     = 2

  validation {
    condition     = var.rollback_evaluation_minutes >= 1 && var.rollback_evaluation_minutes <= 60
    error_message = "The rollback_evaluation_minutes must be between 1 and 60."
  }
}

variable "alarm_topic_arns" {
  description = "SNS topics told when a rollback alarm fires or clears (optional; the rollback itself needs none)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", arn))])
    error_message = "The alarm_topic_arns must be SNS topic ARNs."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the deployer role (the iam module's output permissions_boundary_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "max_session_duration" {
  description = "Maximum session duration of the deployer role, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "The max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
