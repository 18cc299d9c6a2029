# staging stage of {{ cookiecutter.project }}: replace the network ids with your VPC's before `terraform apply`.
project     = "{{ cookiecutter.project }}"
team        = "{{ cookiecutter.team }}"
owner_email = "{{ cookiecutter.owner_email }}"
cost_center = "{{ cookiecutter.cost_center }}"
stage       = "staging"

account_id         = "{{ cookiecutter.staging_account_id }}"
region             = "{{ cookiecutter.aws_region }}"
vpc_id             = "vpc-00000000000000000"
private_subnet_ids = ["subnet-00000000000000001", "subnet-00000000000000002"]
route_table_ids    = ["rtb-00000000000000001"]

source_provider = "{{ cookiecutter.source_provider }}"
repository      = "{{ cookiecutter.github_repository if cookiecutter.source_provider == 'github' else cookiecutter.project }}"
branch          = "main"

force_destroy_buckets       = false
kms_deletion_window_in_days = 30

# Receives deployments from the registry stage's deploy pipeline (deploy-target), and serves clients.
registry_account_id   = "{{ cookiecutter.dev_account_id }}"
inference_api_enabled = true

# Drift monitoring of the endpoint (monitoring): list your model's feature columns to give each a drift
# alarm (none listed: the monitoring pipeline still runs hourly, but nothing alarms or retrains).
drift_features                 = []
monitoring_alert_subscriptions = [{ protocol = "email", endpoint = "{{ cookiecutter.owner_email }}" }]
