terraform {
  # 1.10 brings S3-native state locking (backend "s3" use_lockfile, see backend.tf).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
  }
}
