# `terraform test` of the root module with a mocked AWS provider: no credentials, no AWS calls.
# It evaluates the variable validations, every for_each and count, and the names the pipeline
# reads. `make terraform-native` runs it when a terraform binary can install hashicorp/aws.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
  mock_data "aws_vpc" {
    defaults = { cidr_block = "10.0.0.0/16" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/mock" }
  }
  mock_resource "aws_iam_policy" {
    defaults = { arn = "arn:aws:iam::111111111111:policy/mock" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111111111111:key/mock" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0123456789abcdef0" }
  }
  mock_resource "aws_s3_access_point" {
    defaults = { arn = "arn:aws:s3:eu-west-1:111111111111:accesspoint/mock" }
  }
  mock_resource "aws_codestarconnections_connection" {
    defaults = { arn = "arn:aws:codestar-connections:eu-west-1:111111111111:connection/mock" }
  }
  mock_resource "aws_codepipeline" {
    defaults = { arn = "arn:aws:codepipeline:eu-west-1:111111111111:mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:111111111111:function:mock" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:111111111111:rule/mock" }
  }
  mock_resource "aws_sagemaker_mlflow_tracking_server" {
    defaults = { arn = "arn:aws:sagemaker:eu-west-1:111111111111:mlflow-tracking-server/mock" }
  }
}

variables {
  project            = "churn-reference"
  team               = "ML Platform"
  owner_email        = "ml-platform@example.com"
  cost_center        = "CC-0000"
  stage              = "dev"
  account_id         = "111111111111"
  region             = "eu-west-1"
  vpc_id             = "vpc-0a1b2c3d4e5f60001"
  private_subnet_ids = ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"]
  route_table_ids    = ["rtb-0a1b2c3d4e5f60021"]
  repository         = "example-org/churn-reference"
}

run "github_stage_writes_the_wiring" {
  command = apply

  assert {
    condition = toset(keys(module.sagemaker_project.wiring_parameter_names)) == toset([
      "artifact-bucket", "data-bucket", "execution-role-arn", "kms-key-arn",
      "mlflow-tracking-server-arn", "model-package-group", "security-group-ids", "subnet-ids",
    ])
    error_message = "The stage must write exactly the eight wiring keys pipelines/wiring.py reads."
  }

  assert {
    condition     = module.sagemaker_project.wiring_parameter_names["subnet-ids"] == "/ml-factory/churn-reference/dev/subnet-ids"
    error_message = "Wiring parameters must be named /ml-factory/<project>/<stage>/<key>."
  }

  assert {
    condition     = module.build_pipeline.connection_arn != null && module.iam.events_role_arn == null
    error_message = "A GitHub stage creates a connection and no EventBridge role."
  }

  assert {
    condition     = toset(keys(module.data_perimeter.access_point_arns)) == toset(["ml-platform"])
    error_message = "The team access point must be named after the team slug."
  }
}

run "codecommit_stage_starts_on_push" {
  command = apply

  variables {
    source_provider = "codecommit"
    repository      = "churn-reference"
  }

  assert {
    condition     = module.iam.events_role_arn != null && module.build_pipeline.connection_arn == null
    error_message = "A CodeCommit stage needs the EventBridge role and no connection."
  }
}

run "rejects_an_unknown_stage" {
  command = plan

  variables {
    stage = "qa"
  }

  expect_failures = [var.stage]
}

run "registry_stage_promotes_approved_models" {
  command = plan

  variables {
    deploy_target_accounts = { staging = "222222222222", prod = "333333333333" }
  }

  assert {
    condition     = length(module.deploy_pipeline) == 1 && length(module.deploy_target) == 0 && length(module.inference_api) == 0
    error_message = "The registry stage gets the deploy pipeline only."
  }

  assert {
    condition     = module.deploy_pipeline[0].event_rule_name == "churn-reference-dev-model-approved" && local.deployer_role_arns == ["arn:aws:iam::333333333333:role/churn-reference-prod-deployer", "arn:aws:iam::222222222222:role/churn-reference-staging-deployer"]
    error_message = "The deploy pipeline's rule or the deployer roles it assumes are misnamed."
  }
}

run "serving_stage_receives_deployments" {
  command = plan

  variables {
    stage                 = "prod"
    registry_account_id   = "999999999999"
    inference_api_enabled = true
  }

  assert {
    condition     = length(module.deploy_pipeline) == 0 && module.deploy_target[0].endpoint_name == "churn-reference-prod"
    error_message = "A serving stage gets the deploy target for its endpoint <project>-<stage>."
  }

  assert {
    condition     = module.deploy_target[0].rollback_alarm_names == { "5xx-errors" = "churn-reference-prod-5xx-errors", "model-latency" = "churn-reference-prod-model-latency" }
    error_message = "The rollback alarms must carry the names pipelines.deploy gives AutoRollbackConfiguration."
  }
}

run "rejects_deploy_targets_other_than_staging_and_prod" {
  command = plan

  variables {
    deploy_target_accounts = { qa = "222222222222" }
  }

  expect_failures = [var.deploy_target_accounts]
}
