# The four component roles for one environment, with the KMS key policy to attach to the lake key.

module "iam" {
  source = "../.."

  name_prefix               = "example-dev"
  aws_account_id            = "123456789012"
  raw_bucket_arn            = "arn:aws:s3:::example-dev-raw"
  processed_bucket_arn      = "arn:aws:s3:::example-dev-processed"
  athena_results_bucket_arn = "arn:aws:s3:::example-dev-athena-results"
  artifacts_bucket_arn      = "arn:aws:s3:::example-dev-artifacts"
  kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  glue_database_name        = "example_dev"
  datasets                  = ["orders", "customers"]
  athena_workgroup_name     = "example-dev"
}

output "role_arns" {
  description = "Component role ARNs."
  value       = module.iam.role_arns
}

output "role_policy_documents" {
  description = "Inline policy of each role."
  value       = module.iam.role_policy_documents
}

output "kms_key_policy_json" {
  description = "Key policy for the lake key."
  value       = module.iam.kms_key_policy_json
}
