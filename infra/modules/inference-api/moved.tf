# Where the function's role, log group and function went when they moved into the lambda-function
# module: an apply moves them in state instead of destroying and recreating them.

moved {
  from = aws_iam_role.lambda
  to   = module.function.module.role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["inference_api"]
  to   = module.function.module.role.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.lambda
  to   = module.function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_lambda_function.this
  to   = module.function.aws_lambda_function.this
}
