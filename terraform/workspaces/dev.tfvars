# Values of the dev workspace: `batchlake plan --workspace dev` passes this file.
environment    = "dev"
aws_account_id = "111111111111" # replace with your dev account id
aws_region     = "eu-west-1"

schedules_enabled                 = false # run on demand in dev: `aws glue start-workflow-run`
force_destroy                     = true
athena_results_expiration_in_days = 7
log_retention_in_days             = 14
bytes_scanned_cutoff_per_query    = 1073741824 # 1 GiB

transform = {
  worker_type       = "G.1X"
  number_of_workers = 2
}
