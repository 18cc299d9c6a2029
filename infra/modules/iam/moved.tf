# Where the roles went when they moved into the service-role module: an apply moves them in state
# instead of destroying and recreating them.

moved {
  from = aws_iam_role.this["sagemaker"]
  to   = module.role["sagemaker"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["sagemaker"]
  to   = module.role["sagemaker"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["codebuild"]
  to   = module.role["codebuild"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["codebuild"]
  to   = module.role["codebuild"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["codepipeline"]
  to   = module.role["codepipeline"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["codepipeline"]
  to   = module.role["codepipeline"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["events"]
  to   = module.role["events"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["events"]
  to   = module.role["events"].aws_iam_role_policy.this
}
