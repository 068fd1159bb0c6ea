# The lake's buckets and key for one environment. The key policy here is the account default; in the root
# configuration the iam module renders it (component roles, CloudWatch Logs).

data "aws_caller_identity" "current" {}

locals {
  prefix = "example-dev-${data.aws_caller_identity.current.account_id}"
}

module "data_lake" {
  source = "../.."

  bucket_names = {
    raw            = "${local.prefix}-raw"
    processed      = "${local.prefix}-processed"
    athena_results = "${local.prefix}-athena-results"
    artifacts      = "${local.prefix}-artifacts"
    access_logs    = "${local.prefix}-access-logs"
  }
  kms_key_alias = "example-dev"
  kms_key_policy_json = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
  force_destroy = true
}

output "raw_bucket_name" {
  description = "Raw bucket."
  value       = module.data_lake.raw_bucket_name
}
