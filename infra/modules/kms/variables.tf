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

variable "alias_name" {
  description = "Key alias, e.g. alias/ml-factory/<project>-<stage>. IAM policies elsewhere scope key use to it (kms:ResourceAliases), so it is passed in rather than derived here."
  type        = string

  validation {
    condition     = can(regex("^alias/[A-Za-z0-9/_-]{1,250}$", var.alias_name)) && !startswith(var.alias_name, "alias/aws/")
    error_message = "The alias_name must look like alias/<name> (letters, digits, /, _ and -) and must not start with alias/aws/."
  }
}

variable "key_user_role_arns" {
  description = "IAM role ARNs allowed to use the key (encrypt, decrypt, generate data keys, and create grants for AWS services)."
  type        = list(string)

  validation {
    condition     = length(var.key_user_role_arns) > 0 && alltrue([for arn in var.key_user_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "The key_user_role_arns must hold at least one IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "key_administrator_arns" {
  description = "IAM principal ARNs allowed to administer (but not use) the key. The account root always keeps full access so IAM policies can delegate and the key cannot become unmanageable."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.key_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])
    error_message = "The key_administrator_arns must hold IAM role or user ARNs."
  }
}

variable "log_group_name_prefixes" {
  description = "CloudWatch Logs log group name prefixes whose log groups may encrypt with the key (e.g. /aws/codebuild/churn-dev-). Empty disables the CloudWatch Logs statement."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for prefix in var.log_group_name_prefixes : can(regex("^(/|aws-waf-logs-)[A-Za-z0-9_./#-]*$", prefix))])
    error_message = "The log_group_name_prefixes must be log group name prefixes starting with '/' or 'aws-waf-logs-'."
  }
}

variable "alarm_topics" {
  description = "Let CloudWatch alarms of this account publish to SNS topics encrypted with the key (the monitoring module's alert topic)."
  type        = bool
  default     = false
}

variable "event_bus_names" {
  description = "EventBridge event buses of this account encrypted with the key (the monitoring module's retrain bus)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.event_bus_names : can(regex("^[A-Za-z0-9._-]{1,256}$", name))])
    error_message = "The event_bus_names must be event bus names (letters, digits, . _ -)."
  }
}

variable "reader_account_ids" {
  description = "Accounts allowed to decrypt this key's S3 objects (kms:ViaService s3): the stage accounts that deploy models registered here."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.reader_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "The reader_account_ids must be 12-digit AWS account ids."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period, in days, before a scheduled key deletion completes."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "The deletion_window_in_days must be between 7 and 30."
  }
}

variable "rotation_period_in_days" {
  description = "Automatic key material rotation period, in days."
  type        = number
  default     = 365

  validation {
    condition     = var.rotation_period_in_days >= 90 && var.rotation_period_in_days <= 2560
    error_message = "The rotation_period_in_days must be between 90 and 2560."
  }
}

variable "tags" {
  description = "Cost tags (Project, Team, Owner, CostCenter, Environment, ManagedBy) merged into every taggable resource."
  type        = map(string)
  default     = {}
}
