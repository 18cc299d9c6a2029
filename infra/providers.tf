locals {
  # The cost tags every resource carries: provider default_tags below, and each module's `tags`
  # input so the modules stay correct wherever they are used. tests/infra enforces both.
  cost_tags = {
    Project     = var.project
    Team        = var.team
    Owner       = var.owner_email
    CostCenter  = var.cost_center
    Environment = var.stage
    ManagedBy   = "ml-factory"
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.cost_tags
  }
}
