# Where the roles, the log group and the function went when they moved into the service-role and
# lambda-function modules: an apply moves them in state instead of destroying and recreating them.

moved {
  from = aws_iam_role.this["monitor_scheduler"]
  to   = module.role["monitor_scheduler"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["monitor_scheduler"]
  to   = module.role["monitor_scheduler"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["drift_forwarder"]
  to   = module.role["drift_forwarder"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["drift_forwarder"]
  to   = module.role["drift_forwarder"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["retrain_scheduler"]
  to   = module.role["retrain_scheduler"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["retrain_scheduler"]
  to   = module.role["retrain_scheduler"].aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.this["retrain"]
  to   = module.retrain_function[0].module.role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this["retrain"]
  to   = module.retrain_function[0].module.role.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.retrain[0]
  to   = module.retrain_function[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_lambda_function.retrain[0]
  to   = module.retrain_function[0].aws_lambda_function.this
}
