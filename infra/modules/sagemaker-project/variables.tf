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

variable "model_package_group_name" {
  description = "Name of the SageMaker Model Registry group; null uses <project>-<stage>."
  type        = string
  default     = null

  validation {
    condition     = var.model_package_group_name == null || can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_package_group_name))
    error_message = "The model_package_group_name must be 1-63 letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "execution_role_arn" {
  description = "SageMaker execution role ARN (wiring key execution-role-arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "The execution_role_arn must be an IAM role ARN."
  }
}

variable "artifact_bucket_name" {
  description = "Artifact bucket name (wiring key artifact-bucket)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "The artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "data_bucket_name" {
  description = "Data bucket name (wiring key data-bucket)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "The data_bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN (wiring key kms-key-arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "subnet_ids" {
  description = "Private subnet ids for training and processing jobs (wiring key subnet-ids, a StringList)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "The subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "security_group_ids" {
  description = "Security group ids for training and processing jobs (wiring key security-group-ids, a StringList)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for id in var.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "The security_group_ids must hold at least one security group id (sg-...)."
  }
}

variable "mlflow_tracking_server_arn" {
  description = "ARN of the stage's MLflow tracking server (tracking module; wiring key mlflow-tracking-server-arn); null writes none: runs are not tracked in the cloud."
  type        = string
  default     = null

  validation {
    condition     = var.mlflow_tracking_server_arn == null || can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:mlflow-tracking-server/.+$", var.mlflow_tracking_server_arn))
    error_message = "The mlflow_tracking_server_arn must be a SageMaker MLflow tracking server ARN."
  }
}

variable "parameter_tier" {
  description = "SSM parameter tier of the wiring parameters: Standard (free) or Advanced."
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Standard", "Advanced"], var.parameter_tier)
    error_message = "The parameter_tier must be Standard or Advanced."
  }
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
