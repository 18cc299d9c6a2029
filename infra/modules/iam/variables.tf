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
  description = "Name of the artifact bucket the roles read and write (created by the data-perimeter module)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "The artifact_bucket_name must be a valid S3 bucket name."
  }
}

variable "data_bucket_name" {
  description = "Name of the data bucket the SageMaker execution role reads (created by the data-perimeter module)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "The data_bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_alias" {
  description = "Alias of the project KMS key (alias/...). Key permissions are scoped to keys carrying this alias (kms:ResourceAliases), which lets the key policy name these roles without a dependency cycle."
  type        = string

  validation {
    condition     = can(regex("^alias/[A-Za-z0-9/_-]{1,250}$", var.kms_key_alias)) && !startswith(var.kms_key_alias, "alias/aws/")
    error_message = "The kms_key_alias must look like alias/<name> and must not start with alias/aws/."
  }
}

variable "model_package_group_name" {
  description = "Name of the SageMaker Model Registry group the pipeline registers models in."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_package_group_name))
    error_message = "The model_package_group_name must be 1-63 letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "sagemaker_pipeline_name" {
  description = "Name of the SageMaker pipeline the build creates and starts (<project>-<stage> on the Python side)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$", var.sagemaker_pipeline_name))
    error_message = "The sagemaker_pipeline_name must be letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "codebuild_project_name" {
  description = "Name of the CodeBuild project (created by the build-pipeline module) the CodePipeline role may start."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$", var.codebuild_project_name))
    error_message = "The codebuild_project_name must be 2-255 letters, digits, hyphens or underscores, starting with a letter or digit."
  }
}

variable "codebuild_log_group_name" {
  description = "CloudWatch Logs group the CodeBuild project writes to (created by the build-pipeline module)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#-]{1,512}$", var.codebuild_log_group_name))
    error_message = "The codebuild_log_group_name must be a valid log group name."
  }
}

variable "codepipeline_name" {
  description = "Name of the CodePipeline (created by the build-pipeline module); the EventBridge role may start it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9.@_-]{1,100}$", var.codepipeline_name))
    error_message = "The codepipeline_name must be 1-100 letters, digits, dots, @, hyphens or underscores."
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
  description = "The team repository: owner/name on GitHub, or the CodeCommit repository name. The CodePipeline role may use a connection only for this repository."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$", var.repository))
    error_message = "The repository must be owner/name (GitHub) or a CodeCommit repository name."
  }
}

variable "vpc_id" {
  description = "VPC the SageMaker jobs run in; the execution role may create network interfaces only there."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of an existing IAM policy to use as permissions boundary for every role. Null creates a boundary scoped to this project's resources."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN or null."
  }
}

variable "max_session_duration" {
  description = "Maximum session duration, in seconds, of every role (3600-43200)."
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
