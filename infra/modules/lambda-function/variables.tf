variable "function_name" {
  description = "Name of the function, e.g. <project>-<stage>-retrain; its log group is /aws/lambda/<function_name>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "The function_name must be 1-64 letters, digits, hyphens or underscores, as Lambda allows."
  }
}

variable "description" {
  description = "What the function does."
  type        = string

  validation {
    condition     = length(var.description) <= 256
    error_message = "The description must be at most 256 characters, as Lambda allows."
  }
}

variable "source_file" {
  description = "The reviewed Python source file packaged as the function's code: the calling module's lambda/<name>.py."
  type        = string

  validation {
    condition     = endswith(var.source_file, ".py")
    error_message = "The source_file must be a Python file (.py)."
  }
}

variable "handler" {
  description = "Entry point, <module>.<function>, e.g. handler.lambda_handler."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler))
    error_message = "The handler must be <module>.<function>, e.g. handler.lambda_handler."
  }
}

variable "runtime" {
  description = "Lambda runtime of the function."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.runtime))
    error_message = "The runtime must be a Python runtime such as python3.12."
  }
}

variable "timeout" {
  description = "Seconds an invocation may run."
  type        = number

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "The timeout must be between 1 and 900 seconds."
  }
}

variable "memory_size" {
  description = "Memory of the function, in MB (CPU scales with it)."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "The memory_size must be between 128 and 10240."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrent executions reserved for (and capping) the function."
  type        = number

  validation {
    condition     = var.reserved_concurrent_executions >= 1
    error_message = "The reserved_concurrent_executions must be at least 1."
  }
}

variable "environment_variables" {
  description = "The function's environment, encrypted with the project key."
  type        = map(string)
  default     = {}
}

variable "vpc_subnet_ids" {
  description = "Subnets to attach the function to; empty: not in a VPC."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function in the VPC (with vpc_subnet_ids)."
  type        = list(string)
  default     = []
}

variable "log_format" {
  description = "Format of the function's log lines: Text or JSON."
  type        = string
  default     = "Text"

  validation {
    condition     = contains(["Text", "JSON"], var.log_format)
    error_message = "The log_format must be Text or JSON."
  }
}

variable "log_retention_days" {
  description = "Days the function's log group keeps its logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention CloudWatch Logs accepts (e.g. 365)."
  }
}

variable "role_name" {
  description = "Name of the function's role; null: the function name."
  type        = string
  default     = null
}

variable "role_description" {
  description = "Description of the function's role."
  type        = string
}

variable "policy_json" {
  description = "The function's own grants (an aws_iam_policy_document's json); the module adds its logs, key, tracing and network statements."
  type        = string

  validation {
    condition     = can(jsondecode(var.policy_json).Statement)
    error_message = "The policy_json must be an IAM policy document with a Statement."
  }
}

variable "kms_key_arn" {
  description = "ARN of the project KMS key: encrypts the environment and the log group; the role may decrypt with it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the function's role (the iam module's output); null for none, where the caller allows it (studio-launch)."
  type        = string

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN or null."
  }
}

variable "tags" {
  description = "Cost tags for every resource of the module."
  type        = map(string)
  default     = {}
}
