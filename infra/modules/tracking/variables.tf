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

variable "artifact_bucket_name" {
  description = "The project's artifact bucket (data-perimeter module); the artifact store is its <project>/mlflow/ prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "The artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "The project's customer-managed KMS key (kms module); the artifact bucket encrypts with it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "tracking_server_size" {
  description = "Size of the managed tracking server: Small (up to 25 users), Medium (50) or Large (100)."
  type        = string
  default     = "Small"

  validation {
    condition     = contains(["Small", "Medium", "Large"], var.tracking_server_size)
    error_message = "The tracking_server_size must be Small, Medium or Large."
  }
}

variable "mlflow_version" {
  description = "MLflow version of the server (e.g. 3.0); null takes SageMaker's current default. Keep it compatible with the mlflow client in requirements.lock."
  type        = string
  default     = null

  validation {
    condition     = var.mlflow_version == null || can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)?$", var.mlflow_version))
    error_message = "The mlflow_version must look like 3.0 or 2.16.2."
  }
}

variable "weekly_maintenance_window_start" {
  description = "Weekly maintenance window start (UTC), e.g. Sun:02:00; null lets SageMaker choose."
  type        = string
  default     = null

  validation {
    condition     = var.weekly_maintenance_window_start == null || can(regex("^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.weekly_maintenance_window_start))
    error_message = "The weekly_maintenance_window_start must look like Sun:02:00."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the tracking server's role (the iam module's boundary keeps it within the project's buckets and key)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
