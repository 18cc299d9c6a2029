variable "project" {
  description = "Project slug (3-32 lowercase letters, digits and hyphens); prefixes every name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "The project must be 3-32 lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "stage" {
  description = "Stage of this account: dev, staging or prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "The stage must be one of dev, staging, prod."
  }
}

################################################################################
# Drift monitoring of this stage's endpoint
################################################################################

variable "monitor_endpoint" {
  description = "Monitor this stage's endpoint <project>-<stage>: the schedule that starts the monitoring pipeline, the drift alarms and the alert topic."
  type        = bool
  default     = true
}

variable "monitoring_schedule_expression" {
  description = "When EventBridge Scheduler starts the monitoring pipeline <project>-monitor-<stage>: rate(...) or cron(...)."
  type        = string
  default     = "rate(1 hour)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.monitoring_schedule_expression))
    error_message = "The monitoring_schedule_expression must be rate(...) or cron(...)."
  }
}

variable "drift_features" {
  description = "Features with a drift alarm on their feature_baseline_drift_<feature> metric. CloudWatch alarms name one metric each and Model Monitor's metric names carry the feature, so the features are listed here (the training data's feature columns)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for f in var.drift_features : can(regex("^[A-Za-z0-9_.:/#@-]{1,200}$", f))])
    error_message = "The drift_features must be feature names of 1-200 letters, digits or _ . : / # @ - (as they appear in the metric names)."
  }
}

variable "drift_threshold" {
  description = "Drift distance (L-infinity between the baseline and current CDFs) above which a feature's alarm fires; Model Monitor's default is 0.1."
  type        = number
  default     = 0.1

  validation {
    condition     = var.drift_threshold > 0 && var.drift_threshold <= 1
    error_message = "The drift_threshold must lie in (0, 1]."
  }
}

variable "drift_thresholds" {
  description = "Per-feature drift thresholds overriding drift_threshold, e.g. { win_rate = 0.2 }."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for t in values(var.drift_thresholds) : t > 0 && t <= 1])
    error_message = "Every drift_thresholds value must lie in (0, 1]."
  }
}

variable "drift_alarm_periods" {
  description = "Consecutive monitoring periods over the threshold before a feature's alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.drift_alarm_periods >= 1 && var.drift_alarm_periods <= 24
    error_message = "The drift_alarm_periods must be between 1 and 24."
  }
}

variable "drift_alarm_period_seconds" {
  description = "Length of one monitoring period for the alarms; match the monitoring schedule (3600 for hourly)."
  type        = number
  default     = 3600

  validation {
    condition     = var.drift_alarm_period_seconds >= 60 && var.drift_alarm_period_seconds % 60 == 0 && var.drift_alarm_period_seconds <= 86400
    error_message = "The drift_alarm_period_seconds must be a multiple of 60 between 60 and 86400."
  }
}

variable "alert_subscriptions" {
  description = "Who hears about drift and failed monitoring runs: SNS subscriptions of the alert topic, e.g. [{ protocol = \"email\", endpoint = \"team@example.com\" }] (email confirms once; https, sqs and lambda take an URL or ARN)."
  type        = list(object({ protocol = string, endpoint = string }))
  default     = []

  validation {
    condition     = alltrue([for s in var.alert_subscriptions : contains(["email", "email-json", "https", "sqs", "lambda", "sms", "firehose"], s.protocol)])
    error_message = "Each alert_subscriptions protocol must be one of email, email-json, https, sqs, lambda, sms, firehose."
  }
}

variable "retrain_event_bus_arn" {
  description = "The registry stage's retrain event bus (its output retrain_event_bus_arn): this stage's drift alarms going to ALARM are forwarded there and start retraining. null: drift here alerts but does not retrain."
  type        = string
  default     = null

  validation {
    condition     = var.retrain_event_bus_arn == null || can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.retrain_event_bus_arn))
    error_message = "The retrain_event_bus_arn must be an EventBridge event bus ARN or null."
  }
}

################################################################################
# Continuous training (the registry stage, where the training pipeline runs)
################################################################################

variable "continuous_training" {
  description = "Create continuous training here: the retrain event bus, the Lambda that starts the training pipeline with a cool-down, and its triggers (drift, schedule, new data)."
  type        = bool
  default     = false
}

variable "drift_source_accounts" {
  description = "Stage -> account whose drift alarms start retraining here (the bus accepts their events), e.g. { staging = \"222222222222\", prod = \"333333333333\" }."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for stage, id in var.drift_source_accounts : contains(["dev", "staging", "prod"], stage) && can(regex("^[0-9]{12}$", id))])
    error_message = "The drift_source_accounts must map dev, staging or prod to 12-digit account ids."
  }
}

variable "monitoring_reports_uris" {
  description = "Stage -> S3 prefix of that stage's monitoring reports, recorded as the violations report of a drift retrain; a stage not listed records s3://<project>-<stage>-artifacts-<account>/<project>/monitoring/<stage>/."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for uri in values(var.monitoring_reports_uris) : startswith(uri, "s3://")])
    error_message = "Every monitoring_reports_uris value must be an s3:// URI."
  }
}

variable "training_pipeline_name" {
  description = "The SageMaker training pipeline continuous training starts, <project>-<stage> (pipelines/config.py Config.pipeline_name)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$", var.training_pipeline_name))
    error_message = "The training_pipeline_name must be letters, digits and single hyphens, as SageMaker allows."
  }
}

variable "model_package_group_name" {
  description = "The training pipeline's model package group: its latest approved version gives a retrain the drift baseline and the champion."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$", var.model_package_group_name))
    error_message = "The model_package_group_name must be 1-63 letters, digits and single hyphens, as SageMaker allows."
  }
}

variable "retrain_cool_down_hours" {
  description = "Hours after a retraining starts during which no trigger (drift, schedule, new data) starts another."
  type        = number
  default     = 24

  validation {
    condition     = var.retrain_cool_down_hours >= 0 && var.retrain_cool_down_hours <= 8760
    error_message = "The retrain_cool_down_hours must be between 0 and 8760."
  }
}

variable "retrain_schedule_expression" {
  description = "Retrain on a schedule as well: rate(...) or cron(...); null (the default) turns the schedule off."
  type        = string
  default     = null

  validation {
    condition     = var.retrain_schedule_expression == null || can(regex("^(rate|cron)\\(.+\\)$", var.retrain_schedule_expression))
    error_message = "The retrain_schedule_expression must be rate(...), cron(...) or null."
  }
}

variable "retrain_on_new_data" {
  description = "Retrain when objects are created under the data prefix, once the upload has been quiet for new_data_quiet_minutes."
  type        = bool
  default     = true
}

variable "data_bucket_name" {
  description = "The stage's data bucket (EventBridge notifications on, as the data-perimeter module sets them); needed for retrain_on_new_data."
  type        = string
  default     = null

  validation {
    condition     = var.data_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "The data_bucket_name must be a valid S3 bucket name or null."
  }
}

variable "data_prefix" {
  description = "Key prefix of the training data in the data bucket; null: <project>/input/ (the default InputDataUri)."
  type        = string
  default     = null
}

variable "new_data_quiet_minutes" {
  description = "Minutes without a new object before new data starts a run, so a many-file upload starts one."
  type        = number
  default     = 30

  validation {
    condition     = var.new_data_quiet_minutes >= 1 && var.new_data_quiet_minutes <= 1440
    error_message = "The new_data_quiet_minutes must be between 1 and 1440."
  }
}

################################################################################
# Guardrails
################################################################################

variable "kms_key_arn" {
  description = "ARN of the project KMS key: encrypts the alert topic, the schedules, the retrain bus, the state table, the function's environment and its log group; the roles decrypt with this key only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for every role of the module (the iam module's output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "log_retention_days" {
  description = "Days the continuous-training function's log group keeps its decisions."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention CloudWatch Logs accepts (e.g. 365)."
  }
}

variable "tags" {
  description = "Cost tags for every resource of the module."
  type        = map(string)
  default     = {}
}
