# dev stage of {{ cookiecutter.project }}: replace the network ids with your VPC's before `terraform apply`.
project     = "{{ cookiecutter.project }}"
team        = "{{ cookiecutter.team }}"
owner_email = "{{ cookiecutter.owner_email }}"
cost_center = "{{ cookiecutter.cost_center }}"
stage       = "dev"

account_id         = "{{ cookiecutter.dev_account_id }}"
region             = "{{ cookiecutter.aws_region }}"
vpc_id             = "vpc-00000000000000000"
private_subnet_ids = ["subnet-00000000000000001", "subnet-00000000000000002"]
route_table_ids    = ["rtb-00000000000000001"]

source_provider = "{{ cookiecutter.source_provider }}"
repository      = "{{ cookiecutter.github_repository if cookiecutter.source_provider == 'github' else cookiecutter.project }}"
branch          = "main"

force_destroy_buckets       = true
kms_deletion_window_in_days = 7

# The registry stage: approved models are promoted to these accounts (deploy-pipeline).
deploy_target_accounts = { staging = "{{ cookiecutter.staging_account_id }}", prod = "{{ cookiecutter.prod_account_id }}" }
deploy_approval_emails = ["{{ cookiecutter.owner_email }}"]

# Continuous training (monitoring): drift alarms of staging and prod, and new data under
# {{ cookiecutter.project }}/input/, start the training pipeline at most once per 24 hours.
# retrain_schedule_expression = "cron(0 6 ? * MON *)"   # also retrain weekly (off by default)
retrain_cool_down_hours = 24
retrain_on_new_data     = true
