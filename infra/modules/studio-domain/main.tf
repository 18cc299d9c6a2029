# A SageMaker domain for platforms that have none: VPC-only with IAM authentication in the network module's
# private subnets, storage encrypted with the platform key, a user profile per team member running as the
# team's execution role, and a JupyterLab lifecycle configuration that trusts the internal CA bundle. Idle
# JupyterLab apps are shut down by the domain's idle settings (no extension to download: a VPC-only domain
# has no internet). Studio launches of the ML Factory template (studio-launch) run in this domain.

locals {
  lifecycle_config_name = "${var.domain_name}-jupyterlab"
  lifecycle_script = templatefile("${path.module}/lifecycle/jupyterlab.sh.tftpl", {
    ca_bundle_base64 = var.ca_bundle_pem == null ? "" : base64encode(var.ca_bundle_pem)
  })
}

resource "aws_sagemaker_studio_lifecycle_config" "jupyterlab" {
  studio_lifecycle_config_name     = local.lifecycle_config_name
  studio_lifecycle_config_app_type = "JupyterLab"
  studio_lifecycle_config_content  = base64encode(local.lifecycle_script)

  tags = merge(var.tags, { Name = local.lifecycle_config_name })
}

resource "aws_sagemaker_domain" "this" {
  domain_name             = var.domain_name
  auth_mode               = "IAM"
  vpc_id                  = var.vpc_id
  subnet_ids              = var.subnet_ids
  app_network_access_type = "VpcOnly"
  kms_key_id              = var.kms_key_arn

  default_user_settings {
    execution_role  = var.execution_role_arn
    security_groups = var.security_group_ids

    jupyter_lab_app_settings {
      lifecycle_config_arns = [aws_sagemaker_studio_lifecycle_config.jupyterlab.arn]

      default_resource_spec {
        lifecycle_config_arn = aws_sagemaker_studio_lifecycle_config.jupyterlab.arn
      }

      app_lifecycle_management {
        idle_settings {
          lifecycle_management    = "ENABLED"
          idle_timeout_in_minutes = var.idle_timeout_minutes
        }
      }
    }

    sharing_settings {
      notebook_output_option = "Disabled"
    }
  }

  default_space_settings {
    execution_role  = var.execution_role_arn
    security_groups = var.security_group_ids
  }

  domain_settings {
    security_group_ids = var.security_group_ids
  }

  retention_policy {
    home_efs_file_system = "Retain"
  }

  tags = merge(var.tags, { Name = var.domain_name })
}

resource "aws_sagemaker_user_profile" "member" {
  for_each = toset(var.team_members)

  domain_id         = aws_sagemaker_domain.this.id
  user_profile_name = each.value

  user_settings {
    execution_role  = var.execution_role_arn
    security_groups = var.security_group_ids
  }

  tags = merge(var.tags, { Name = each.value })
}
