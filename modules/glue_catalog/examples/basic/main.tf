# A database with one raw-zone crawler per dataset.

module "glue_catalog" {
  source = "../.."

  database_name    = "example_dev"
  name_prefix      = "example-dev"
  crawler_role_arn = "arn:aws:iam::123456789012:role/example-dev-crawler"
  kms_key_arn      = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  datasets = {
    orders    = { raw_s3_path = "s3://example-dev-raw/raw/orders/", schema_change_policy = "update" }
    customers = { raw_s3_path = "s3://example-dev-raw/raw/customers/" }
  }
}

output "crawler_names" {
  description = "Crawler per dataset."
  value       = module.glue_catalog.crawler_names
}
