terraform {
  # 1.10+: S3 backend locking with a lock file (use_lockfile), no DynamoDB table needed.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: `batchlake plan|apply|output` passes -backend-config=backend.hcl (see backend.hcl.example).
  # With workspaces, each workspace's state lives at env:/<workspace>/<key> in the state bucket.
  backend "s3" {}
}
