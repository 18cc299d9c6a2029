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
  description = "Name of the bucket for step code, models, reports and pipeline artifacts."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "The artifact_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "data_bucket_name" {
  description = "Name of the bucket holding the team's input data."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "The data_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "log_bucket_name" {
  description = "Name of the bucket receiving S3 server access logs of the artifact and data buckets."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.log_bucket_name))
    error_message = "The log_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key used for SSE-KMS on the artifact and data buckets."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "access_points" {
  description = "One S3 access point on the data bucket per team: map of team slug to the IAM principal ARNs allowed through it."
  type = map(object({
    principal_arns = list(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for team in keys(var.access_points) : can(regex("^[a-z0-9][a-z0-9-]{0,40}$", team))])
    error_message = "The access_points keys must be team slugs: lowercase letters, digits and hyphens, at most 41 characters."
  }

  validation {
    condition     = alltrue(flatten([for ap in values(var.access_points) : [for arn in ap.principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))]]))
    error_message = "The access_points principal_arns must be IAM role or user ARNs."
  }
}

variable "access_point_vpc_id" {
  description = "When set, every access point accepts requests only from this VPC (network origin VPC). Null allows the Internet network origin, still subject to IAM and the access point policy."
  type        = string
  default     = null

  validation {
    condition     = var.access_point_vpc_id == null || can(regex("^vpc-[0-9a-f]{8,17}$", var.access_point_vpc_id))
    error_message = "The access_point_vpc_id must be a VPC id (vpc-...) or null."
  }
}

variable "intelligent_tiering_after_days" {
  description = "Days after creation when current object versions move to S3 Intelligent-Tiering."
  type        = number
  default     = 30

  validation {
    condition     = var.intelligent_tiering_after_days >= 0 && floor(var.intelligent_tiering_after_days) == var.intelligent_tiering_after_days
    error_message = "The intelligent_tiering_after_days must be a whole number of days, 0 or more."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent (overwritten or deleted) object versions expire."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "The noncurrent_version_expiration_days must be a whole number of days, 1 or more."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted and their parts deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "The abort_incomplete_multipart_upload_days must be a whole number of days, 1 or more."
  }
}

variable "access_log_retention_days" {
  description = "Days to keep S3 server access logs in the log bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 90 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "The access_log_retention_days must be a whole number of days, 90 or more."
  }
}

variable "reader_account_ids" {
  description = "Accounts allowed to read the artifact bucket's objects: the stage accounts that deploy models registered here (deploy-pipeline)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.reader_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "The reader_account_ids must be 12-digit AWS account ids."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets. Keep false outside throw-away dev stacks."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
