# An enforced, encrypted workgroup with one named query.

module "athena" {
  source = "../.."

  workgroup_name      = "example-dev"
  results_bucket_name = "example-dev-athena-results"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  database_name       = "example_dev"
  named_queries = {
    "orders/row_count" = { query = "SELECT count(*) FROM orders", description = "Rows in orders" }
  }
}

output "workgroup_name" {
  description = "Workgroup."
  value       = module.athena.workgroup_name
}
