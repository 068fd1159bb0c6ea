# Ingest and transform jobs and a scheduled workflow for one dataset.

locals {
  artifacts = "s3://example-dev-artifacts/artifacts"
}

module "glue_pipeline" {
  source = "../.."

  name_prefix                 = "example-dev"
  ingest_role_arn             = "arn:aws:iam::123456789012:role/example-dev-ingest"
  transform_role_arn          = "arn:aws:iam::123456789012:role/example-dev-transform"
  raw_bucket_name             = "example-dev-raw"
  processed_bucket_name       = "example-dev-processed"
  database_name               = "example_dev"
  kms_key_arn                 = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  security_configuration_name = "example-dev-glue"

  ingest_artifacts = {
    script_uri = "${local.artifacts}/batchlake-ingest/0.1.0/0123456789abcdef/glue_entry.py"
    wheel_uris = [
      "${local.artifacts}/batchlake-core/0.1.0/0123456789abcdef/batchlake_core-0.1.0-py3-none-any.whl",
      "${local.artifacts}/batchlake-ingest/0.1.0/0123456789abcdef/batchlake_ingest-0.1.0-py3-none-any.whl",
    ]
  }
  transform_artifacts = {
    script_uri = "${local.artifacts}/batchlake-transforms/0.1.0/0123456789abcdef/glue_entry.py"
    wheel_uris = [
      "${local.artifacts}/batchlake-core/0.1.0/0123456789abcdef/batchlake_core-0.1.0-py3-none-any.whl",
      "${local.artifacts}/batchlake-transforms/0.1.0/0123456789abcdef/batchlake_transforms-0.1.0-py3-none-any.whl",
    ]
  }

  datasets = {
    orders = {
      schedule     = "cron(15 2 * * ? *)"
      contract_uri = "${local.artifacts}/contracts/orders/0123456789abcdef/orders.yaml"
      crawler_name = "example-dev-raw-orders"
    }
  }
}

output "workflow_names" {
  description = "Workflow per dataset."
  value       = module.glue_pipeline.workflow_names
}
