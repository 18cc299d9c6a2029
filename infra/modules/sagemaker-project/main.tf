# The SageMaker side of a project stage: the Model Registry group, and the SSM parameters that
# wire the team repository to its infrastructure.
#
# THE WIRING CONTRACT. The Python side (pipelines/wiring.py, WIRING_KEYS and ssm_prefix) reads
# exactly one parameter per key of local.wiring, named /ml-factory/<project>/<stage>/<key>.
# This file is the one place Terraform spells that convention; template_tests/
# test_wiring_contract.py fails when the two sides drift apart. Add or rename a key on both
# sides at once.

locals {
  name       = "${var.project}-${var.stage}"
  ssm_prefix = "/ml-factory/${var.project}/${var.stage}"

  wiring = {
    "execution-role-arn"  = var.execution_role_arn
    "artifact-bucket"     = var.artifact_bucket_name
    "data-bucket"         = var.data_bucket_name
    "kms-key-arn"         = var.kms_key_arn
    "subnet-ids"          = join(",", var.subnet_ids)
    "security-group-ids"  = join(",", var.security_group_ids)
    "model-package-group" = aws_sagemaker_model_package_group.this.model_package_group_name
    # always written, "none" for a stage without a tracking server: the reader needs every key
    "mlflow-tracking-server-arn" = coalesce(var.mlflow_tracking_server_arn, "none")
  }

  # Keys whose value is a comma-joined list, stored as StringList (WiringKey.is_list on the Python side).
  wiring_list_keys = ["subnet-ids", "security-group-ids"]
}

resource "aws_sagemaker_model_package_group" "this" {
  model_package_group_name        = coalesce(var.model_package_group_name, local.name)
  model_package_group_description = "Model Registry group of ${local.name}: candidate models wait here for approval"

  tags = merge(var.tags, { Name = coalesce(var.model_package_group_name, local.name) })
}

resource "aws_ssm_parameter" "wiring" {
  for_each = local.wiring
  #checkov:skip=CKV2_AWS_34:Wiring values are resource identifiers (ARNs, bucket names, subnet and security group ids), not secrets; SecureString cannot be a StringList and would make every reader need kms:Decrypt.

  name        = "${local.ssm_prefix}/${each.key}"
  description = "ML Factory wiring of ${local.name}: ${each.key} (written by infra/modules/sagemaker-project, read by pipelines/wiring.py)"
  type        = contains(local.wiring_list_keys, each.key) ? "StringList" : "String"
  value       = each.value
  tier        = var.parameter_tier

  tags = merge(var.tags, { Name = "${local.ssm_prefix}/${each.key}" })
}
