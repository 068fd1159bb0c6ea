# batchlake on AWS: one lake per workspace (dev, staging, prod), every dataset of pipelines/*.yaml wired in.
# Adding a dataset = adding its contract; nothing here changes. Only this root reads terraform.workspace.

locals {
  environment = terraform.workspace
  name_prefix = "batchlake-${local.environment}"
  tags = {
    project     = "batchlake"
    environment = local.environment
    managed-by  = "terraform"
  }

  # --- contracts: pipelines/<dataset>.yaml -------------------------------------------------------------------
  repo_root = "${path.module}/.."
  contract_files = {
    for f in fileset("${local.repo_root}/pipelines", "*.yaml") : trimsuffix(f, ".yaml") => "${local.repo_root}/pipelines/${f}"
  }
  contracts = { for name, path in local.contract_files : name => yamldecode(file(path)) }

  # --- names -------------------------------------------------------------------------------------------------
  bucket_prefix = "${local.name_prefix}-${var.aws_account_id}-${var.aws_region}"
  bucket_names = {
    raw            = "${local.bucket_prefix}-raw"
    processed      = "${local.bucket_prefix}-processed"
    athena_results = "${local.bucket_prefix}-athena-results"
    artifacts      = "${local.bucket_prefix}-artifacts"
    access_logs    = "${local.bucket_prefix}-access-logs"
  }
  database_name  = replace(local.name_prefix, "-", "_")
  workgroup_name = local.name_prefix

  # --- artifacts: dist/manifest.json from `make package` -----------------------------------------------------
  manifest_path = "${path.module}/${var.artifacts_manifest_path}"
  manifest      = jsondecode(file(local.manifest_path))
  dist_dir      = dirname(local.manifest_path)
  artifacts = {
    for a in local.manifest.artifacts : "${a.name}:${a.kind}" => merge(a, {
      key    = "artifacts/${a.name}/${a.version}/${substr(a.sha256, 0, 16)}/${basename(a.file)}"
      source = "${local.dist_dir}/${a.file}"
    })
  }
  contract_objects = {
    for name, path in local.contract_files : name => {
      key    = "artifacts/contracts/${name}/${substr(filesha256(path), 0, 16)}/${name}.yaml"
      source = path
      sha256 = filesha256(path)
    }
  }
  artifacts_uri = "s3://${local.bucket_names.artifacts}"
  artifact_uri  = { for id, a in local.artifacts : id => "${local.artifacts_uri}/${a.key}" }

  upload_objects = merge(
    { for a in values(local.artifacts) : a.key => { source = a.source, sha256 = a.sha256 } },
    { for c in values(local.contract_objects) : c.key => { source = c.source, sha256 = c.sha256, content_type = "application/yaml" } },
  )

  # --- named queries: every SQL file a contract lists ---------------------------------------------------------
  named_queries = merge([
    for name, c in local.contracts : {
      for sql_path in try(c.sql, []) : "${name}/${trimsuffix(basename(sql_path), ".sql")}" => {
        query       = file("${local.repo_root}/${sql_path}")
        description = "${name}: ${sql_path}"
      }
    }
  ]...)
}

# Guard rails, checked at plan time.
resource "terraform_data" "workspace_guard" {
  input = local.environment

  lifecycle {
    precondition {
      condition     = local.environment == var.environment
      error_message = "The selected workspace is ${local.environment} but the values file is for ${var.environment}: use workspaces/${local.environment}.tfvars."
    }
    precondition {
      condition     = alltrue([for name, c in local.contracts : try(c.dataset, "") == name])
      error_message = "Every pipelines/<dataset>.yaml must declare dataset: <dataset> (file name and dataset field differ)."
    }
    precondition {
      condition     = alltrue([for id in ["batchlake-core:wheel", "batchlake-ingest:wheel", "batchlake-transforms:wheel", "batchlake-ingest:script", "batchlake-transforms:script"] : contains(keys(local.artifacts), id)])
      error_message = "dist/manifest.json lacks a wheel or job script: run `batchlake package` (or `make package`) first."
    }
  }
}

module "iam" {
  source = "../modules/iam"

  name_prefix                    = local.name_prefix
  aws_account_id                 = var.aws_account_id
  raw_bucket_arn                 = module.data_lake.raw_bucket_arn
  processed_bucket_arn           = module.data_lake.processed_bucket_arn
  athena_results_bucket_arn      = module.data_lake.athena_results_bucket_arn
  artifacts_bucket_arn           = module.data_lake.artifacts_bucket_arn
  kms_key_arn                    = module.data_lake.kms_key_arn
  glue_database_name             = local.database_name
  datasets                       = toset(keys(local.contracts))
  athena_workgroup_name          = local.workgroup_name
  analyst_trusted_principal_arns = var.analyst_trusted_principal_arns
  key_administrator_arns         = var.key_administrator_arns
  source_secret_arns             = var.source_secret_arns
}

module "data_lake" {
  source = "../modules/data_lake"

  bucket_names                      = local.bucket_names
  kms_key_alias                     = local.name_prefix
  kms_key_policy_json               = module.iam.kms_key_policy_json
  athena_results_expiration_in_days = var.athena_results_expiration_in_days
  force_destroy                     = var.force_destroy
}

module "artifacts" {
  source = "../modules/artifacts"

  bucket_name = module.data_lake.artifacts_bucket_name
  kms_key_arn = module.data_lake.kms_key_arn
  objects     = local.upload_objects
}

module "glue_catalog" {
  source = "../modules/glue_catalog"

  database_name    = local.database_name
  name_prefix      = local.name_prefix
  crawler_role_arn = module.iam.role_arns["crawler"]
  kms_key_arn      = module.data_lake.kms_key_arn
  datasets = {
    for name, c in local.contracts : name => {
      raw_s3_path          = "s3://${module.data_lake.raw_bucket_name}/raw/${name}/"
      schema_change_policy = try(c.schema.change_policy, "update")
    }
  }
}

module "glue_pipeline" {
  source = "../modules/glue_pipeline"

  name_prefix                 = local.name_prefix
  ingest_role_arn             = module.iam.role_arns["ingest"]
  transform_role_arn          = module.iam.role_arns["transform"]
  raw_bucket_name             = module.data_lake.raw_bucket_name
  processed_bucket_name       = module.data_lake.processed_bucket_name
  database_name               = module.glue_catalog.database_name
  kms_key_arn                 = module.data_lake.kms_key_arn
  security_configuration_name = module.glue_catalog.security_configuration_name
  schedules_enabled           = var.schedules_enabled
  ingest_runtime              = var.ingest_runtime
  transform                   = var.transform
  log_retention_in_days       = var.log_retention_in_days

  ingest_artifacts = {
    script_uri = local.artifact_uri["batchlake-ingest:script"]
    wheel_uris = [local.artifact_uri["batchlake-core:wheel"], local.artifact_uri["batchlake-ingest:wheel"]]
  }
  transform_artifacts = {
    script_uri = local.artifact_uri["batchlake-transforms:script"]
    wheel_uris = [local.artifact_uri["batchlake-core:wheel"], local.artifact_uri["batchlake-transforms:wheel"]]
  }

  datasets = {
    for name, c in local.contracts : name => {
      schedule     = try(c.schedule, null)
      contract_uri = "${local.artifacts_uri}/${local.contract_objects[name].key}"
      crawler_name = module.glue_catalog.crawler_names[name]
    }
  }

  # The jobs must not start before their code is uploaded.
  depends_on = [module.artifacts]
}

module "athena" {
  source = "../modules/athena"

  workgroup_name                 = local.workgroup_name
  results_bucket_name            = module.data_lake.athena_results_bucket_name
  kms_key_arn                    = module.data_lake.kms_key_arn
  bytes_scanned_cutoff_per_query = var.bytes_scanned_cutoff_per_query
  database_name                  = module.glue_catalog.database_name
  named_queries                  = local.named_queries
  force_destroy                  = var.force_destroy
}
