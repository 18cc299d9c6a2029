# Where the roles, the function's log group and the function went when they moved into the service-role and
# lambda-function modules: an apply moves them in state instead of destroying and recreating them. The
# function's inline policy is renamed start-vending -> least-privilege (replaced in place, seconds apart).

moved {
  from = aws_iam_role.launch
  to   = module.launch_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.launch
  to   = module.launch_role.aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.vending
  to   = module.vending_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.vending
  to   = module.vending_role.aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.function
  to   = module.function.module.role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.function
  to   = module.function.module.role.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.function
  to   = module.function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_lambda_function.vending
  to   = module.function.aws_lambda_function.this
}
