# Where the server's role went when it moved into the service-role module: an apply moves it in state
# instead of destroying and recreating it.

moved {
  from = aws_iam_role.tracking_server
  to   = module.role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.artifact_store
  to   = module.role.aws_iam_role_policy.this
}
