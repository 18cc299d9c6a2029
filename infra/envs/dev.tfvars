# Example values for the dev stage: replace every id with your own before `terraform apply`.
project     = "churn-reference"
team        = "ml-platform"
owner_email = "ml-platform@example.com"
cost_center = "CC-0000"
stage       = "dev"

account_id         = "111111111111"
region             = "eu-west-1"
vpc_id             = "vpc-0a1b2c3d4e5f60001"
private_subnet_ids = ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"]
route_table_ids    = ["rtb-0a1b2c3d4e5f60021", "rtb-0a1b2c3d4e5f60022"]

source_provider = "github"
repository      = "example-org/churn-reference"
branch          = "main"

force_destroy_buckets       = true
kms_deletion_window_in_days = 7

# The registry stage: approved models are promoted to these accounts (deploy-pipeline).
deploy_target_accounts = { staging = "222222222222", prod = "333333333333" }
deploy_approval_emails = ["ml-platform@example.com"]

# Continuous training (monitoring): drift alarms of staging and prod, and new data under
# churn-reference/input/, start the training pipeline at most once per 24 hours; no retrain schedule.
retrain_cool_down_hours = 24
retrain_on_new_data     = true
