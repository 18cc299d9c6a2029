################################################################################
# Identity and cost tags (the same values as [tool.ml-factory] in pyproject.toml)
################################################################################

variable "project" {
  description = "Project slug (3-32 lowercase letters, digits and hyphens); prefixes every name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "The project must be 3-32 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "team" {
  description = "Owning team (cost tag Team); its slug also names the team's S3 access point."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$", var.team))
    error_message = "The team must be 1-64 letters, digits, spaces, dots, hyphens or underscores."
  }
}

variable "owner_email" {
  description = "Owner contact (cost tag Owner)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", var.owner_email))
    error_message = "The owner_email must be an e-mail address like jane.doe@example.com."
  }
}

variable "cost_center" {
  description = "Cost center code (cost tag CostCenter)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", var.cost_center))
    error_message = "The cost_center must be letters, digits, hyphens or underscores (e.g. CC-1234)."
  }
}

variable "stage" {
  description = "Deployment stage: dev, staging or prod (cost tag Environment)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "The stage must be one of dev, staging, prod."
  }
}

################################################################################
# Where the stage lives
################################################################################

variable "account_id" {
  description = "AWS account of the stage; the provider refuses to run against any other account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region of the stage, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[1-9]$", var.region))
    error_message = "The region must be an AWS region code like eu-west-1."
  }
}

variable "vpc_id" {
  description = "Existing VPC the SageMaker jobs run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "The vpc_id must be a VPC id (vpc-...)."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets of the VPC for jobs and interface endpoints, one per Availability Zone."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "The private_subnet_ids must hold at least one subnet id (subnet-...)."
  }
}

variable "route_table_ids" {
  description = "Route tables of the private subnets (for the S3 gateway endpoint)."
  type        = list(string)

  validation {
    condition     = length(var.route_table_ids) > 0 && alltrue([for id in var.route_table_ids : can(regex("^rtb-[0-9a-f]{8,17}$", id))])
    error_message = "The route_table_ids must hold at least one route table id (rtb-...)."
  }
}

variable "interface_endpoint_services" {
  description = "Interface endpoints to create (service suffixes); drop those the VPC already has."
  type        = set(string)
  default     = ["sagemaker.api", "sagemaker.runtime", "sts", "ecr.api", "ecr.dkr", "logs", "monitoring"]
}

variable "allow_job_to_job_traffic" {
  description = "Allow traffic between job instances (needed for multi-instance training or drift checks only)."
  type        = bool
  default     = false
}

################################################################################
# Source repository and build
################################################################################

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
  description = "The team repository: owner/name on GitHub, or the CodeCommit repository name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$", var.repository))
    error_message = "The repository must be owner/name (GitHub) or a CodeCommit repository name."
  }
}

variable "branch" {
  description = "Branch whose every merge runs the build."
  type        = string
  default     = "main"
}

variable "connection_arn" {
  description = "Existing CodeConnections connection to GitHub; null creates one (complete it once in the console)."
  type        = string
  default     = null
}

variable "build_timeout_minutes" {
  description = "CodeBuild timeout; the build waits for the SageMaker pipeline run."
  type        = number
  default     = 180
}

################################################################################
# Guardrails
################################################################################

variable "permissions_boundary_arn" {
  description = "Permissions boundary for every role; null creates one scoped to this project."
  type        = string
  default     = null
}

variable "max_session_duration" {
  description = "Maximum session duration of the project roles, in seconds."
  type        = number
  default     = 3600
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion of the project key completes."
  type        = number
  default     = 30
}

variable "restrict_access_point_to_vpc" {
  description = "Serve the team's data access point only to requests from the stage VPC."
  type        = bool
  default     = true
}

variable "data_access_principal_arns" {
  description = "Extra IAM principals (e.g. the team's SSO role) allowed to read and write data through the team's access point."
  type        = list(string)
  default     = []
}

variable "force_destroy_buckets" {
  description = "Let terraform destroy delete non-empty buckets (throw-away dev stacks only)."
  type        = bool
  default     = false
}

################################################################################
# Promotion and serving (deploy-pipeline, deploy-target, inference-api)
################################################################################

variable "deploy_target_accounts" {
  description = "Set on the registry stage (the one whose pipeline registers models): staging and prod account ids. Creates the deploy pipeline that takes each Approved package to staging, then prod, and grants those accounts read access to the packages."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.deploy_target_accounts) == 0 || (toset(keys(var.deploy_target_accounts)) == toset(["prod", "staging"]) && alltrue([for id in values(var.deploy_target_accounts) : can(regex("^[0-9]{12}$", id))]))
    error_message = "The deploy_target_accounts must be empty or map exactly staging and prod to 12-digit account ids."
  }
}

variable "deploy_approval_emails" {
  description = "E-mail addresses told when a prod deployment waits for approval (registry stage only)."
  type        = list(string)
  default     = []
}

variable "registry_account_id" {
  description = "Set on staging and prod: the account of the registry stage whose deploy pipeline deploys here. Creates the deployer role and the endpoint's rollback alarms."
  type        = string
  default     = null

  validation {
    condition     = var.registry_account_id == null || can(regex("^[0-9]{12}$", var.registry_account_id))
    error_message = "The registry_account_id must be a 12-digit AWS account id or null."
  }
}

variable "registry_stage" {
  description = "The stage whose pipeline registers the models (its group and bucket names), usually dev."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(["dev", "staging", "prod"], var.registry_stage)
    error_message = "The registry_stage must be one of dev, staging, prod."
  }
}

variable "inference_api_enabled" {
  description = "Create the inference API (API Gateway + Lambda + WAF) in front of this stage's endpoint."
  type        = bool
  default     = false
}

variable "inference_api_clients" {
  description = "Client names of the inference API; each gets an API key throttled by the usage plan."
  type        = list(string)
  default     = ["default"]
}

variable "inference_api_throttle_rate_limit" {
  description = "Requests per second allowed per inference API key."
  type        = number
  default     = 1000
}

variable "manage_api_gateway_account" {
  description = "Create and set API Gateway's CloudWatch Logs role for this account and region (once per account; the inference API's logging needs it)."
  type        = bool
  default     = false
}

################################################################################
# Experiment tracking
################################################################################

variable "enable_tracking" {
  description = "Create the stage's SageMaker managed MLflow tracking server (billed per hour while it exists); false writes the wiring value none and cloud runs are not tracked."
  type        = bool
  default     = true
}

variable "tracking_server_size" {
  description = "Size of the MLflow tracking server: Small, Medium or Large."
  type        = string
  default     = "Small"

  validation {
    condition     = contains(["Small", "Medium", "Large"], var.tracking_server_size)
    error_message = "The tracking_server_size must be Small, Medium or Large."
  }
}

################################################################################
# Drift monitoring and continuous training (monitoring)
################################################################################

variable "drift_monitoring_enabled" {
  description = "Monitor this stage's endpoint for drift (the monitoring pipeline's schedule, drift alarms, alerts); null: where the registry deploys (registry_account_id set)."
  type        = bool
  default     = null
}

variable "monitoring_schedule_expression" {
  description = "When the monitoring pipeline <project>-monitor-<stage> runs: rate(...) or cron(...)."
  type        = string
  default     = "rate(1 hour)"
}

variable "drift_features" {
  description = "Feature columns with a drift alarm (feature_baseline_drift_<feature> over its threshold); none listed, no drift alarm."
  type        = list(string)
  default     = []
}

variable "drift_thresholds" {
  description = "Per-feature drift thresholds (L-infinity distance) overriding Model Monitor's default 0.1."
  type        = map(number)
  default     = {}
}

variable "monitoring_alert_subscriptions" {
  description = "Subscriptions of the drift alert topic, e.g. [{ protocol = \"email\", endpoint = \"team@example.com\" }]."
  type        = list(object({ protocol = string, endpoint = string }))
  default     = []
}

variable "retrain_on_drift" {
  description = "A drift alarm starts retraining in the registry stage (the alarms are forwarded to its retrain bus)."
  type        = bool
  default     = true
}

variable "continuous_training_enabled" {
  description = "In the registry stage: start the training pipeline on drift, a schedule or new data, once per cool-down."
  type        = bool
  default     = true
}

variable "retrain_cool_down_hours" {
  description = "Hours after a retraining starts during which no trigger starts another."
  type        = number
  default     = 24
}

variable "retrain_schedule_expression" {
  description = "Also retrain on a schedule: rate(...) or cron(...); null (the default) turns it off."
  type        = string
  default     = null
}

variable "retrain_on_new_data" {
  description = "Retrain when objects are created under <project>/input/ in the data bucket, once the upload has been quiet for 30 minutes."
  type        = bool
  default     = true
}

