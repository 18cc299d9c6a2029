# Customer-managed KMS key for everything a project stage stores: S3 objects, pipeline
# artifacts, build logs, SageMaker job volumes. Rotation is on; the key policy keeps the
# account root as administrator (so IAM stays in control) and lets only the listed project
# roles, and CloudWatch Logs for the listed log groups, use the key.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name         = "${var.project}-${var.stage}"
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  region       = data.aws_region.current.region
  account_root = "arn:${local.partition}:iam::${local.account_id}:root"
  log_group_arns = [
    for prefix in var.log_group_name_prefixes : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${prefix}*"
  ]
  event_bus_arns = [for name in var.event_bus_names : "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${name}"]
}

data "aws_iam_policy_document" "key" {
  # A key policy is a resource policy: "*" as Resource means this key, and every statement names its principals.
  #checkov:skip=CKV_AWS_109:Key policy, not an identity policy: Resource "*" is the key itself; permission management stays with the account root, which keeps IAM in control of the key.
  #checkov:skip=CKV_AWS_111:Key policy, not an identity policy: Resource "*" is the key itself; write actions go to named project roles and to CloudWatch Logs only for the project's log groups.
  #checkov:skip=CKV_AWS_356:Key policy, not an identity policy: Resource "*" is the only valid Resource in a KMS key policy and means this key.

  statement {
    sid       = "AccountRootAdministersKey"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy "*" means this key

    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  dynamic "statement" {
    for_each = length(var.key_administrator_arns) > 0 ? [1] : []

    content {
      sid    = "AdministratorsManageKey"
      effect = "Allow"
      actions = [
        "kms:CancelKeyDeletion",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:DescribeKey",
        "kms:DisableKeyRotation",
        "kms:EnableKeyRotation",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.key_administrator_arns
      }
    }
  }

  statement {
    sid    = "ProjectRolesUseKey"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = var.key_user_role_arns
    }
  }

  statement {
    sid       = "ProjectRolesGrantToAwsServices"
    effect    = "Allow"
    actions   = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = var.key_user_role_arns
    }

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  # Stage accounts deploying this stage's models read its SSE-KMS artifacts (deploy-pipeline).
  dynamic "statement" {
    for_each = length(var.reader_account_ids) > 0 ? [1] : []

    content {
      sid       = "StageAccountsDecryptArtifacts"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:DescribeKey"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = [for account in var.reader_account_ids : "arn:${local.partition}:iam::${account}:root"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.log_group_arns) > 0 ? [1] : []

    content {
      sid    = "CloudWatchLogsEncryptProjectLogGroups"
      effect = "Allow"
      actions = [
        "kms:Decrypt*",
        "kms:Describe*",
        "kms:Encrypt*",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
      ]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = local.log_group_arns
      }
    }
  }

  # CloudWatch alarms publishing to an SNS topic encrypted with this key (the monitoring module's alerts).
  dynamic "statement" {
    for_each = var.alarm_topics ? [1] : []

    content {
      sid       = "CloudWatchAlarmsPublishToEncryptedTopics"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }

  # EventBridge encrypting the rules and targets of the listed event buses (the monitoring module's retrain bus).
  dynamic "statement" {
    for_each = length(local.event_bus_arns) > 0 ? [1] : []

    content {
      sid       = "EventBridgeEncryptProjectBuses"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:events:event-bus:arn"
        values   = local.event_bus_arns
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "ML Factory ${local.name}: S3 data and artifacts, pipeline artifacts, build logs, SageMaker volumes"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_in_days
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json

  tags = merge(var.tags, { Name = local.name })
}

resource "aws_kms_alias" "this" {
  name          = var.alias_name
  target_key_id = aws_kms_key.this.key_id
}
