variable "project" {
  description = "Project slug (3-32 lowercase letters, digits and hyphens); prefixes every name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "The project must be 3-32 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "stage" {
  description = "Stage stack that registers the models (the registry account), usually dev."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "The stage must be one of dev, staging, prod."
  }
}


variable "model_package_group_name" {
  description = "Model Registry group whose Approved packages are deployed (this stage's group)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_package_group_name))
    error_message = "The model_package_group_name must be 1-63 letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "target_account_ids" {
  description = "Accounts of the staging and prod stages; the model package group policy lets them read the group's packages."
  type        = list(string)

  validation {
    condition     = length(var.target_account_ids) > 0 && alltrue([for id in var.target_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "The target_account_ids must hold at least one 12-digit AWS account id."
  }
}

variable "deployer_role_arns" {
  description = "Deployer roles of the staging and prod stages (deploy-target module), which the deploy build may assume."
  type        = list(string)

  validation {
    condition     = length(var.deployer_role_arns) > 0 && alltrue([for arn in var.deployer_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+-deployer$", arn))])
    error_message = "The deployer_role_arns must hold IAM role ARNs named <project>-<stage>-deployer."
  }
}

variable "source_provider" {
  description = "Where the team repository lives: github (through AWS CodeConnections) or codecommit."
  type        = string
  default     = "github"

  validation {
    condition     = contains(["github", "codecommit"], var.source_provider)
    error_message = "The source_provider must be github or codecommit."
  }
}

variable "repository" {
  description = "The team repository whose pipelines.deploy runs: owner/name on GitHub, or the CodeCommit repository name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$", var.repository))
    error_message = "The repository must be owner/name (GitHub) or a CodeCommit repository name."
  }
}

variable "branch" {
  description = "Branch whose code deploys (pushes do not start the deploy pipeline; approvals do)."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]{1,255}$", var.branch))
    error_message = "The branch must be a git branch name."
  }
}

variable "connection_arn" {
  description = "CodeConnections connection to GitHub (the build-pipeline module's connection_arn output); required for github, ignored for codecommit."
  type        = string
  default     = null

  validation {
    condition     = var.connection_arn == null || can(regex("^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/.+$", var.connection_arn))
    error_message = "The connection_arn must be a CodeConnections connection ARN or null."
  }
}

variable "artifact_bucket_name" {
  description = "Bucket holding the pipeline artifacts (the project artifact bucket)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "The artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the pipeline artifacts, the build output and logs, and the approval topic."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "kms_key_alias" {
  description = "Alias of the same key; the roles' key permissions are scoped to it (kms:ResourceAliases), as in the iam module."
  type        = string

  validation {
    condition     = can(regex("^alias/[A-Za-z0-9/_-]{1,250}$", var.kms_key_alias)) && !startswith(var.kms_key_alias, "alias/aws/")
    error_message = "The kms_key_alias must look like alias/<name> and must not start with alias/aws/."
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

variable "max_session_duration" {
  description = "Maximum session duration of the roles, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "The max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "approval_emails" {
  description = "E-mail addresses told when a prod deployment waits for approval (each confirms its subscription once)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for email in var.approval_emails : can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", email))])
    error_message = "The approval_emails must be e-mail addresses like jane.doe@example.com."
  }
}

variable "build_image" {
  description = "CodeBuild image; the default (Ubuntu, as the build pipeline's) ships Python 3.11 and the AWS CLI."
  type        = string
  default     = "aws/codebuild/standard:7.0"

  validation {
    condition     = length(var.build_image) > 0
    error_message = "The build_image must not be empty."
  }
}

variable "build_compute_type" {
  description = "CodeBuild compute type."
  type        = string
  default     = "BUILD_GENERAL1_SMALL"

  validation {
    condition     = can(regex("^BUILD_(GENERAL1|LAMBDA)_[A-Z0-9_]+$", var.build_compute_type))
    error_message = "The build_compute_type must be a CodeBuild compute type such as BUILD_GENERAL1_SMALL."
  }
}

variable "build_timeout_minutes" {
  description = "Timeout of each deploy or smoke-test build; a deploy waits for the endpoint's blue/green update."
  type        = number
  default     = 90

  validation {
    condition     = var.build_timeout_minutes >= 5 && var.build_timeout_minutes <= 2160
    error_message = "The build_timeout_minutes must be between 5 and 2160."
  }
}

variable "log_retention_days" {
  description = "Days to keep the build logs."
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
