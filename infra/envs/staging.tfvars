# Example values for the staging stage: replace every id with your own before `terraform apply`.
project     = "churn-reference"
team        = "ml-platform"
owner_email = "ml-platform@example.com"
cost_center = "CC-0000"
stage       = "staging"

account_id         = "222222222222"
region             = "eu-west-1"
vpc_id             = "vpc-0a1b2c3d4e5f60002"
private_subnet_ids = ["subnet-0a1b2c3d4e5f60031", "subnet-0a1b2c3d4e5f60032"]
route_table_ids    = ["rtb-0a1b2c3d4e5f60041", "rtb-0a1b2c3d4e5f60042"]

source_provider = "github"
repository      = "example-org/churn-reference"
branch          = "main"

# Receives deployments from the registry stage's deploy pipeline (deploy-target), and serves clients.
registry_account_id   = "111111111111"
inference_api_enabled = true

# Drift monitoring of the endpoint (monitoring): one alarm per feature column of the training data; drift
# alarms are forwarded to the registry stage and start retraining there (once per cool-down).
drift_features = [
  "sessions_last_7d", "avg_session_minutes", "days_since_last_login", "purchases_30d", "spend_30d", "level",
  "friends_count", "account_age_days", "support_tickets_90d", "win_rate",
  "platform", "country", "acquisition_channel", "subscription_tier",
]
monitoring_alert_subscriptions = [{ protocol = "email", endpoint = "ml-platform@example.com" }]
