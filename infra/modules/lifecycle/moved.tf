# Where the roles, the log group and the function went when they moved into the service-role and
# lambda-function modules: an apply moves them in state instead of destroying and recreating them.

moved {
  from = aws_iam_role.this["lifecycle"]
  to   = module.function.module.role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["lifecycle"]
  to   = module.function.module.role.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.cleanup
  to   = module.function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_lambda_function.cleanup
  to   = module.function.aws_lambda_function.this
}

moved {
  from = aws_iam_role.this["lifecycle_scheduler"]
  to   = module.scheduler_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["lifecycle_scheduler"]
  to   = module.scheduler_role.aws_iam_role_policy.this
}
