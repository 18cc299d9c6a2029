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

variable "source_provider" {
  description = "Where the team repository lives: github (through AWS CodeConnections) or codecommit (closed to new AWS customers)."
  type        = string
  default     = "github"

  validation {
    condition     = contains(["github", "codecommit"], var.source_provider)
    error_message = "The source_provider must be github or codecommit."
  }
}

variable "repository" {
  description = "The team repository: owner/name on GitHub, or the name of an existing CodeCommit repository."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$", var.repository))
    error_message = "The repository must be owner/name (GitHub) or a CodeCommit repository name."
  }
}

variable "branch" {
  description = "Branch whose every merge (push) runs the build."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]{1,255}$", var.branch))
    error_message = "The branch must be a git branch name."
  }
}

variable "connection_arn" {
  description = "ARN of an existing, AVAILABLE CodeConnections (CodeStar Connections) connection to GitHub. Null creates one, which an administrator must then complete once in the console (Developer Tools > Settings > Connections)."
  type        = string
  default     = null

  validation {
    condition     = var.connection_arn == null || can(regex("^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/.+$", var.connection_arn))
    error_message = "The connection_arn must be a CodeConnections connection ARN or null."
  }
}

variable "codebuild_project_name" {
  description = "Name of the CodeBuild project that runs the repository's buildspec."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$", var.codebuild_project_name))
    error_message = "The codebuild_project_name must be 2-255 letters, digits, hyphens or underscores, starting with a letter or digit."
  }
}

variable "codebuild_log_group_name" {
  description = "Name of the CloudWatch Logs group the build writes to (created here, KMS-encrypted)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#-]{1,512}$", var.codebuild_log_group_name))
    error_message = "The codebuild_log_group_name must be a valid log group name."
  }
}

variable "codepipeline_name" {
  description = "Name of the CodePipeline."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9.@_-]{1,100}$", var.codepipeline_name))
    error_message = "The codepipeline_name must be 1-100 letters, digits, dots, @, hyphens or underscores."
  }
}

variable "codebuild_role_arn" {
  description = "ARN of the CodeBuild service role (from the iam module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.codebuild_role_arn))
    error_message = "The codebuild_role_arn must be an IAM role ARN."
  }
}

variable "codepipeline_role_arn" {
  description = "ARN of the CodePipeline service role (from the iam module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.codepipeline_role_arn))
    error_message = "The codepipeline_role_arn must be an IAM role ARN."
  }
}

variable "events_role_arn" {
  description = "ARN of the EventBridge role that starts the pipeline on a CodeCommit push (from the iam module). Required for codecommit, ignored for github."
  type        = string
  default     = null

  validation {
    condition     = var.events_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.events_role_arn))
    error_message = "The events_role_arn must be an IAM role ARN or null."
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
  description = "Customer-managed KMS key encrypting the pipeline artifacts, the build output and the build logs."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "buildspec" {
  description = "Path of the buildspec in the repository; it runs the tests, then `python -m pipelines.run --wait`."
  type        = string
  default     = "buildspec.yml"

  validation {
    condition     = length(var.buildspec) > 0
    error_message = "The buildspec must not be empty."
  }
}

variable "build_image" {
  description = "CodeBuild image; the default (Ubuntu) ships Python 3.11 and 3.12 (the step runtime's) and Google Chrome for the report tests."
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
  description = "Build timeout in minutes; the build waits for the SageMaker pipeline run, so allow for training time."
  type        = number
  default     = 180

  validation {
    condition     = var.build_timeout_minutes >= 5 && var.build_timeout_minutes <= 2160
    error_message = "The build_timeout_minutes must be between 5 and 2160."
  }
}

variable "build_environment_variables" {
  description = "Extra plain-text environment variables for the build (never secrets). ML_FACTORY_PROJECT and ML_FACTORY_STAGE are always set."
  type        = map(string)
  default     = {}
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
