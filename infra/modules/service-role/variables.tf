variable "name" {
  description = "Name of the role, e.g. <project>-<stage>-retrain."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "The name must be 1-64 letters, digits or + = , . @ _ -, as IAM allows for role names."
  }
}

variable "description" {
  description = "What the role is for: who assumes it and what it does."
  type        = string

  validation {
    condition     = length(var.description) > 0 && length(var.description) <= 1000
    error_message = "The description must be 1-1000 characters."
  }
}

variable "services" {
  description = "Service principals that may assume the role, in this account only, e.g. [\"lambda.amazonaws.com\"]."
  type        = list(string)

  validation {
    condition     = length(var.services) > 0 && alltrue([for s in var.services : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", s))])
    error_message = "The services must be one or more service principals such as lambda.amazonaws.com."
  }
}

variable "policy_json" {
  description = "The role's least-privilege inline policy (an aws_iam_policy_document's json)."
  type        = string

  validation {
    condition     = can(jsondecode(var.policy_json).Statement)
    error_message = "The policy_json must be an IAM policy document with a Statement."
  }
}

variable "policy_name" {
  description = "Name of the inline policy."
  type        = string
  default     = "least-privilege"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.policy_name))
    error_message = "The policy_name must be 1-128 letters, digits or + = , . @ _ -."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the role (the iam module's output); null for none, where the caller allows it (tracking, studio-launch)."
  type        = string

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN or null."
  }
}

variable "max_session_duration" {
  description = "Maximum session duration of the role, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "The max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "tags" {
  description = "Cost tags for the role."
  type        = map(string)
  default     = {}
}
