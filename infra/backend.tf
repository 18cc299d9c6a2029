# Remote state in S3 with S3-native locking (a lock file next to the state; no DynamoDB table).
# Partial configuration: bucket, key and region come from the stage's backend file, e.g.
#   terraform -chdir=infra init -backend-config=envs/dev.s3.tfbackend
terraform {
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }
}
