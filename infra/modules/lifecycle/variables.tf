variable "project" {
  description = "Project slug (3-32 lowercase letters, digits and hyphens); the cleanup touches only resources tagged Project=<project>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "The project must be 3-32 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "stage" {
  description = "Stage of the account; the cleanup acts only in dev (elsewhere the function refuses and logs why)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "The stage must be one of dev, staging, prod."
  }
}

variable "sagemaker_pipeline_name" {
  description = "Name of the SageMaker pipeline; its checkpoints live under <project>/pipelines/<name>/checkpoints/ in the artifact bucket."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$", var.sagemaker_pipeline_name))
    error_message = "The sagemaker_pipeline_name must be letters, digits and single hyphens, as SageMaker allows."
  }
}

variable "artifact_bucket_name" {
  description = "The project artifact bucket holding the Spot training checkpoints."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "The artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "ARN of the project KMS key: encrypts the function's environment and its log group, which the function's role may decrypt with."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "idle_hours" {
  description = "Hours without invocations (endpoints) or user activity (Studio apps), and the minimum age of unused endpoint configs and unattached EBS volumes, before the cleanup deletes them."
  type        = number
  default     = 24

  validation {
    condition     = var.idle_hours >= 1 && var.idle_hours <= 720
    error_message = "The idle_hours must be between 1 and 720."
  }
}

variable "checkpoint_days" {
  description = "Days after which Spot training checkpoints are deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.checkpoint_days >= 1 && var.checkpoint_days <= 365
    error_message = "The checkpoint_days must be between 1 and 365."
  }
}

variable "schedule_expression" {
  description = "When EventBridge Scheduler runs the cleanup: rate(...) or cron(...)."
  type        = string
  default     = "rate(6 hours)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.schedule_expression))
    error_message = "The schedule_expression must be rate(...) or cron(...)."
  }
}

variable "dry_run" {
  description = "Only log what the cleanup would do (one JSON line per action), deleting nothing."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days the function's CloudWatch Logs group keeps the action log."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention CloudWatch Logs accepts (e.g. 365)."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the function's and the schedule's roles (the iam module's output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tags" {
  description = "Cost tags for every resource of the module."
  type        = map(string)
  default     = {}
}
