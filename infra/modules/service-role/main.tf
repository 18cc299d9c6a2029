# One IAM role that AWS services assume for a project: a trust policy for those service principals in
# this account only (aws:SourceAccount, against the confused deputy), the project's permissions boundary,
# a bounded session and one least-privilege inline policy. Every module of the library makes its service
# roles here; callers keep their policy documents (and `role_policies`, which
# template_tests/test_iam_contract.py reads) and pass the document's JSON.

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = var.services
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = var.max_session_duration

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = var.policy_json
}
