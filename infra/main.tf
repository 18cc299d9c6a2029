# The infrastructure of one project stage, assembled from the versioned module library.
#
# In the template every module source reads `source = "./modules/<name>"`. A generated team
# repository receives these root files only; its post-generation hook rewrites each source
# into a git URL pinned to the template release (infra/tools/module_sources.py), so keep
# every source on one line in exactly that form.
#
# Order: iam (role names are known up front) -> kms (its policy names the roles) ->
# data-perimeter (buckets encrypted with the key) -> network -> sagemaker-project (the SSM
# wiring the pipeline reads) and build-pipeline (CodePipeline + CodeBuild); tracking (the MLflow
# tracking server, unless enable_tracking = false) feeds the wiring too.
#
# Promotion and serving (issue 11), each switched on per stage in envs/<stage>.tfvars:
# deploy-pipeline in the registry stage (deploy_target_accounts set: approved models go to
# staging, then prod), deploy-target in each stage it deploys to (registry_account_id set: the
# deployer role and the rollback alarms), inference-api wherever an endpoint serves clients.
#
# Drift monitoring and continuous training (issue 12): monitoring in each stage that serves an endpoint
# (the schedule of the monitoring pipeline, drift alarms, alerts; drift alarms forwarded to the registry
# stage), and in the registry stage the retrain bus and the Lambda that starts the training pipeline on
# drift, a schedule or new data, once per cool-down.

data "aws_partition" "current" {}

locals {
  name = "${var.project}-${var.stage}"

  # Names several modules must agree on, spelled once here.
  artifact_bucket_name     = "${local.name}-artifacts-${var.account_id}"
  data_bucket_name         = "${local.name}-data-${var.account_id}"
  log_bucket_name          = "${local.name}-logs-${var.account_id}"
  kms_alias_name           = "alias/ml-factory/${local.name}"
  sagemaker_pipeline_name  = local.name # pipelines/config.py: Config.pipeline_name
  model_package_group_name = local.name
  codebuild_project_name   = "${local.name}-modelbuild"
  codebuild_log_group_name = "/aws/codebuild/${local.name}-modelbuild"
  codepipeline_name        = "${local.name}-modelbuild"
  lifecycle_log_group_name = "/aws/lambda/${local.name}-lifecycle" # modules/lifecycle: the cleanup's action log
  retrain_log_group_name   = "/aws/lambda/${local.name}-retrain"   # modules/monitoring: continuous training's decisions
  team_slug                = trim(replace(lower(var.team), "/[^a-z0-9-]+/", "-"), "-")

  # Promotion: the registry stage's names (the same conventions as above, for the registry stage)
  # and the stage deployer roles its deploy build assumes (pipelines.deploy spells the same name).
  registry_name        = "${var.project}-${var.registry_stage}"
  registry_account_id  = coalesce(var.registry_account_id, var.account_id)
  deployer_role_arns   = [for stage, account in var.deploy_target_accounts : "arn:${data.aws_partition.current.partition}:iam::${account}:role/${var.project}-${stage}-deployer"]
  deploy_stage_readers = distinct(values(var.deploy_target_accounts))

  # Monitoring where an endpoint is served (by default the stages the registry deploys to); continuous
  # training where the training pipeline registers models. Drift alarms go to the registry's retrain bus
  # (modules/monitoring names it <project>-<registry stage>-retrain), from the deploy targets and from here.
  drift_monitoring      = var.drift_monitoring_enabled == null ? var.registry_account_id != null : var.drift_monitoring_enabled
  continuous_training   = var.continuous_training_enabled && var.stage == var.registry_stage
  retrain_bus_name      = "${local.registry_name}-retrain"
  retrain_bus_arn       = "arn:${data.aws_partition.current.partition}:events:${var.region}:${local.registry_account_id}:event-bus/${local.retrain_bus_name}"
  drift_source_accounts = merge(var.deploy_target_accounts, local.drift_monitoring ? { (var.stage) = var.account_id } : {})
  # Log groups the new modules create (their names must be known before the key, to avoid a cycle).
  serving_log_group_prefixes = ["/aws/codebuild/${local.name}-deploy", "/aws/lambda/${local.name}-inference-api", "/aws/apigateway/${local.name}-inference-api", "aws-waf-logs-${local.name}-inference-api"]
}

module "iam" {
  source = "./modules/iam"

  project                  = var.project
  stage                    = var.stage
  artifact_bucket_name     = local.artifact_bucket_name
  data_bucket_name         = local.data_bucket_name
  kms_key_alias            = local.kms_alias_name
  model_package_group_name = local.model_package_group_name
  sagemaker_pipeline_name  = local.sagemaker_pipeline_name
  codebuild_project_name   = local.codebuild_project_name
  codebuild_log_group_name = local.codebuild_log_group_name
  codepipeline_name        = local.codepipeline_name
  source_provider          = var.source_provider
  repository               = var.repository
  vpc_id                   = var.vpc_id
  permissions_boundary_arn = var.permissions_boundary_arn
  max_session_duration     = var.max_session_duration
  tags                     = local.cost_tags
}

module "kms" {
  source = "./modules/kms"

  project    = var.project
  stage      = var.stage
  alias_name = local.kms_alias_name
  key_user_role_arns = concat(
    [module.iam.sagemaker_execution_role_arn, module.iam.codebuild_role_arn, module.iam.codepipeline_role_arn],
    # Indexed, not splatted: `module.x[*].y` depends on every output of module.x, and some of those use the key
    # (terraform validate: "Cycle: module.kms.var.key_user_role_arns ... module.deploy_pipeline (close)").
    length(var.deploy_target_accounts) > 0 ? module.deploy_pipeline[0].role_arns : [],
    var.registry_account_id == null ? [] : [module.deploy_target[0].deployer_role_arn],
    var.inference_api_enabled ? [module.inference_api[0].lambda_role_arn] : [],
  )
  log_group_name_prefixes = concat([local.codebuild_log_group_name, local.lifecycle_log_group_name, local.retrain_log_group_name], local.serving_log_group_prefixes)
  alarm_topics            = local.drift_monitoring
  event_bus_names         = local.continuous_training ? [local.retrain_bus_name] : []
  reader_account_ids      = local.deploy_stage_readers
  deletion_window_in_days = var.kms_deletion_window_in_days
  tags                    = local.cost_tags
}

module "data_perimeter" {
  source = "./modules/data-perimeter"

  project              = var.project
  stage                = var.stage
  artifact_bucket_name = local.artifact_bucket_name
  data_bucket_name     = local.data_bucket_name
  log_bucket_name      = local.log_bucket_name
  kms_key_arn          = module.kms.key_arn
  access_points = {
    (local.team_slug) = {
      principal_arns = concat([module.iam.sagemaker_execution_role_arn], var.data_access_principal_arns)
    }
  }
  access_point_vpc_id = var.restrict_access_point_to_vpc ? var.vpc_id : null
  reader_account_ids  = local.deploy_stage_readers
  force_destroy       = var.force_destroy_buckets
  tags                = local.cost_tags
}

module "network" {
  source = "./modules/network"

  project                     = var.project
  stage                       = var.stage
  vpc_id                      = var.vpc_id
  private_subnet_ids          = var.private_subnet_ids
  route_table_ids             = var.route_table_ids
  interface_endpoint_services = var.interface_endpoint_services
  allow_job_to_job_traffic    = var.allow_job_to_job_traffic
  tags                        = local.cost_tags
}

module "sagemaker_project" {
  source = "./modules/sagemaker-project"

  project                    = var.project
  stage                      = var.stage
  model_package_group_name   = local.model_package_group_name
  execution_role_arn         = module.iam.sagemaker_execution_role_arn
  artifact_bucket_name       = module.data_perimeter.artifact_bucket_name
  data_bucket_name           = module.data_perimeter.data_bucket_name
  kms_key_arn                = module.kms.key_arn
  subnet_ids                 = module.network.subnet_ids
  security_group_ids         = module.network.security_group_ids
  mlflow_tracking_server_arn = var.enable_tracking ? module.tracking[0].tracking_server_arn : null
  tags                       = local.cost_tags
}

module "tracking" {
  source = "./modules/tracking"
  count  = var.enable_tracking ? 1 : 0

  project                  = var.project
  stage                    = var.stage
  artifact_bucket_name     = module.data_perimeter.artifact_bucket_name
  kms_key_arn              = module.kms.key_arn
  tracking_server_size     = var.tracking_server_size
  permissions_boundary_arn = module.iam.permissions_boundary_arn
  tags                     = local.cost_tags
}

module "build_pipeline" {
  source = "./modules/build-pipeline"

  project                  = var.project
  stage                    = var.stage
  source_provider          = var.source_provider
  repository               = var.repository
  branch                   = var.branch
  connection_arn           = var.connection_arn
  codebuild_project_name   = local.codebuild_project_name
  codebuild_log_group_name = local.codebuild_log_group_name
  codepipeline_name        = local.codepipeline_name
  codebuild_role_arn       = module.iam.codebuild_role_arn
  codepipeline_role_arn    = module.iam.codepipeline_role_arn
  events_role_arn          = module.iam.events_role_arn
  artifact_bucket_name     = module.data_perimeter.artifact_bucket_name
  kms_key_arn              = module.kms.key_arn
  build_timeout_minutes    = var.build_timeout_minutes
  tags                     = local.cost_tags
}

module "deploy_pipeline" {
  source = "./modules/deploy-pipeline"
  count  = length(var.deploy_target_accounts) > 0 ? 1 : 0

  project                  = var.project
  stage                    = var.stage
  model_package_group_name = module.sagemaker_project.model_package_group_name
  target_account_ids       = local.deploy_stage_readers
  deployer_role_arns       = local.deployer_role_arns
  source_provider          = var.source_provider
  repository               = var.repository
  branch                   = var.branch
  connection_arn           = module.build_pipeline.connection_arn
  artifact_bucket_name     = module.data_perimeter.artifact_bucket_name
  kms_key_arn              = module.kms.key_arn
  kms_key_alias            = local.kms_alias_name
  permissions_boundary_arn = module.iam.permissions_boundary_arn
  max_session_duration     = var.max_session_duration
  approval_emails          = var.deploy_approval_emails
  tags                     = local.cost_tags
}

module "deploy_target" {
  source = "./modules/deploy-target"
  count  = var.registry_account_id == null ? 0 : 1

  project                           = var.project
  stage                             = var.stage
  registry_account_id               = local.registry_account_id
  deploy_codebuild_role_arn         = "arn:${data.aws_partition.current.partition}:iam::${local.registry_account_id}:role/${local.registry_name}-deploy-codebuild"
  registry_model_package_group_name = local.registry_name # model_package_group_name of the registry stage
  registry_artifact_bucket_name     = "${local.registry_name}-artifacts-${local.registry_account_id}"
  artifact_bucket_name              = local.artifact_bucket_name # the monitoring step's code (monitor publish)
  model_execution_role_name         = module.iam.sagemaker_execution_role_name
  kms_key_alias                     = local.kms_alias_name
  permissions_boundary_arn          = module.iam.permissions_boundary_arn
  max_session_duration              = var.max_session_duration
  tags                              = local.cost_tags
}

module "inference_api" {
  source = "./modules/inference-api"
  count  = var.inference_api_enabled ? 1 : 0

  project                    = var.project
  stage                      = var.stage
  subnet_ids                 = module.network.subnet_ids
  security_group_ids         = module.network.security_group_ids
  kms_key_arn                = module.kms.key_arn
  permissions_boundary_arn   = module.iam.permissions_boundary_arn
  api_clients                = var.inference_api_clients
  throttle_rate_limit        = var.inference_api_throttle_rate_limit
  manage_api_gateway_account = var.manage_api_gateway_account
  tags                       = local.cost_tags
}

# Idle-resource cleanup (dev only): idle endpoints, unused endpoint configs, idle Studio apps,
# unattached EBS volumes and old checkpoints of this project; see modules/lifecycle/README.md.
module "lifecycle" {
  source = "./modules/lifecycle"
  count  = var.stage == "dev" ? 1 : 0

  project                  = var.project
  stage                    = var.stage
  sagemaker_pipeline_name  = local.sagemaker_pipeline_name
  artifact_bucket_name     = module.data_perimeter.artifact_bucket_name
  kms_key_arn              = module.kms.key_arn
  permissions_boundary_arn = module.iam.permissions_boundary_arn
  tags                     = local.cost_tags
}

# Drift monitoring of this stage's endpoint and, in the registry stage, continuous training; see
# modules/monitoring/README.md.
module "monitoring" {
  source = "./modules/monitoring"
  count  = local.drift_monitoring || local.continuous_training ? 1 : 0

  project                        = var.project
  stage                          = var.stage
  monitor_endpoint               = local.drift_monitoring
  monitoring_schedule_expression = var.monitoring_schedule_expression
  drift_features                 = var.drift_features
  drift_thresholds               = var.drift_thresholds
  alert_subscriptions            = var.monitoring_alert_subscriptions
  retrain_event_bus_arn          = var.retrain_on_drift ? local.retrain_bus_arn : null
  continuous_training            = local.continuous_training
  drift_source_accounts          = var.retrain_on_drift ? local.drift_source_accounts : {}
  training_pipeline_name         = local.sagemaker_pipeline_name
  model_package_group_name       = local.model_package_group_name
  retrain_cool_down_hours        = var.retrain_cool_down_hours
  retrain_schedule_expression    = var.retrain_schedule_expression
  retrain_on_new_data            = var.retrain_on_new_data
  data_bucket_name               = module.data_perimeter.data_bucket_name
  kms_key_arn                    = module.kms.key_arn
  permissions_boundary_arn       = module.iam.permissions_boundary_arn
  tags                           = local.cost_tags
}
