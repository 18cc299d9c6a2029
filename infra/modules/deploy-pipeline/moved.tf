# Where the roles went when they moved into the service-role module: an apply moves them in state
# instead of destroying and recreating them.

moved {
  from = aws_iam_role.this["deploy_codebuild"]
  to   = module.role["deploy_codebuild"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["deploy_codebuild"]
  to   = module.role["deploy_codebuild"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["deploy_codepipeline"]
  to   = module.role["deploy_codepipeline"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["deploy_codepipeline"]
  to   = module.role["deploy_codepipeline"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["deploy_events"]
  to   = module.role["deploy_events"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["deploy_events"]
  to   = module.role["deploy_events"].aws_iam_role_policy.this
}
