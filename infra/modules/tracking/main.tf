# Experiment tracking of one project stage: a SageMaker managed MLflow tracking server whose
# artifact store is a prefix of the project's artifact bucket (data perimeter, SSE-KMS with the
# project key). The server acts with its own role, which reaches that prefix and the key only.
# Who may log to it is decided by identity policies: the iam module grants sagemaker-mlflow
# actions on this server to the project's CodeBuild role only (template_tests/test_iam_contract.py
# derives them from the calls our tracking code makes). Its ARN reaches the pipeline as the SSM
# wiring key mlflow-tracking-server-arn (infra/modules/sagemaker-project).

data "aws_partition" "current" {}

locals {
  name                = "${var.project}-${var.stage}"
  artifact_prefix     = "${var.project}/mlflow"
  artifact_bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.artifact_bucket_name}"
}

data "aws_iam_policy_document" "artifact_store" {
  statement {
    sid       = "ListArtifactStorePrefix"
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [local.artifact_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.artifact_prefix}/*", local.artifact_prefix]
    }
  }

  statement {
    sid       = "ReadWriteArtifactStore"
    effect    = "Allow"
    actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = ["${local.artifact_bucket_arn}/${local.artifact_prefix}/*"]
  }

  statement {
    sid       = "UseProjectKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "role" {
  source = "../service-role"

  name                     = "${local.name}-mlflow"
  description              = "Role of the MLflow tracking server of ${local.name}: its artifact store prefix and the project key only"
  services                 = ["sagemaker.amazonaws.com"]
  policy_json              = data.aws_iam_policy_document.artifact_store.json
  policy_name              = "artifact-store"
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

resource "aws_sagemaker_mlflow_tracking_server" "this" {
  tracking_server_name            = local.name
  artifact_store_uri              = "s3://${var.artifact_bucket_name}/${local.artifact_prefix}"
  role_arn                        = module.role.arn
  tracking_server_size            = var.tracking_server_size
  mlflow_version                  = var.mlflow_version
  automatic_model_registration    = false # the Model Registry group holds the packages; MLflow links to them
  weekly_maintenance_window_start = var.weekly_maintenance_window_start

  tags = merge(var.tags, { Name = local.name })

  depends_on = [module.role]
}
