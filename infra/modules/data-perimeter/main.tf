# The data perimeter of one project stage: an artifact bucket and a data bucket, both
# versioned, SSE-KMS with the project key (S3 Bucket Keys on), private, TLS-only, tiered to
# Intelligent-Tiering and logged to a hardened access-log bucket; plus one S3 access point
# on the data bucket per team.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "${var.project}-${var.stage}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # The two KMS-encrypted buckets share every setting; the access-log bucket differs (SSE-S3, no self-logging).
  buckets = {
    artifacts = var.artifact_bucket_name
    data      = var.data_bucket_name
  }

  access_points = {
    for team, access_point in var.access_points : team => {
      name           = trim(substr("${local.name}-${team}", 0, 50), "-")
      principal_arns = access_point.principal_arns
    }
  }
}

################################################################################
# Artifact and data buckets
################################################################################

resource "aws_s3_bucket" "this" {
  for_each = local.buckets
  #checkov:skip=CKV_AWS_144:Cross-region replication is a per-team disaster-recovery decision; versioning and noncurrent-version retention protect against deletion and overwrite, and artifacts are reproducible by re-running the pipeline.

  bucket        = each.value
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Name = each.value, Purpose = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = "intelligent-tiering-and-cleanup"
    status = "Enabled"

    filter {}

    transition {
      days          = var.intelligent_tiering_after_days
      storage_class = "INTELLIGENT_TIERING"
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  for_each = local.buckets

  bucket        = aws_s3_bucket.this[each.key].id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "${each.value}/"

  target_object_key_format {
    partitioned_prefix {
      partition_date_source = "EventTime"
    }
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_s3_bucket_notification" "this" {
  for_each = local.buckets

  bucket      = aws_s3_bucket.this[each.key].id
  eventbridge = true
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyTlsBelow12"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # Access control for requests through the team access points is delegated to the access point policies.
  dynamic "statement" {
    for_each = each.key == "data" && length(local.access_points) > 0 ? [1] : []

    content {
      sid     = "DelegateToOwnAccessPoints"
      effect  = "Allow"
      actions = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]
      resources = [
        aws_s3_bucket.this[each.key].arn,
        "${aws_s3_bucket.this[each.key].arn}/*",
      ]

      principals {
        type        = "AWS"
        identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
      }

      condition {
        test     = "StringEquals"
        variable = "s3:DataAccessPointAccount"
        values   = [local.account_id]
      }
    }
  }
}

data "aws_iam_policy_document" "artifact_readers" {
  # Stage accounts deploying the models registered here read their artifacts (deploy-pipeline).
  source_policy_documents = [data.aws_iam_policy_document.bucket["artifacts"].json]

  dynamic "statement" {
    for_each = length(var.reader_account_ids) > 0 ? [1] : []

    content {
      sid       = "StageAccountsReadArtifacts"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.this["artifacts"].arn}/*"]

      principals {
        type        = "AWS"
        identifiers = [for account in var.reader_account_ids : "arn:${local.partition}:iam::${account}:root"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = each.key == "artifacts" ? data.aws_iam_policy_document.artifact_readers.json : data.aws_iam_policy_document.bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

################################################################################
# Access-log bucket
################################################################################

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:S3 server access log delivery supports only SSE-S3 (AES256) on the target bucket, not SSE-KMS.
  #checkov:skip=CKV_AWS_144:Access logs are an audit trail kept in-region; replicating them is the organisation's log-archive concern, not this module's.
  bucket        = var.log_bucket_name
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Name = var.log_bucket_name, Purpose = "access-logs" })
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256" # the only default encryption S3 server access log delivery supports
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

resource "aws_s3_bucket_notification" "logs" {
  bucket      = aws_s3_bucket.logs.id
  eventbridge = true
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogDelivery"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for name in values(local.buckets) : "arn:${local.partition}:s3:::${name}"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

################################################################################
# One access point per team on the data bucket
################################################################################

resource "aws_s3_access_point" "this" {
  for_each = local.access_points

  name   = each.value.name
  bucket = aws_s3_bucket.this["data"].id

  public_access_block_configuration {
    block_public_acls       = true
    block_public_policy     = true
    ignore_public_acls      = true
    restrict_public_buckets = true
  }

  dynamic "vpc_configuration" {
    for_each = var.access_point_vpc_id == null ? [] : [var.access_point_vpc_id]

    content {
      vpc_id = vpc_configuration.value
    }
  }

  tags = merge(var.tags, { Name = each.value.name, Team = each.key })
}

data "aws_iam_policy_document" "access_point" {
  for_each = local.access_points

  statement {
    sid       = "TeamListsThroughAccessPoint"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_access_point.this[each.key].arn]

    principals {
      type        = "AWS"
      identifiers = each.value.principal_arns
    }
  }

  statement {
    sid       = "TeamReadsAndWritesObjectsThroughAccessPoint"
    effect    = "Allow"
    actions   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_access_point.this[each.key].arn}/object/*"]

    principals {
      type        = "AWS"
      identifiers = each.value.principal_arns
    }
  }
}

resource "aws_s3control_access_point_policy" "this" {
  for_each = local.access_points

  access_point_arn = aws_s3_access_point.this[each.key].arn
  policy           = data.aws_iam_policy_document.access_point[each.key].json
}
