# Values of the prod workspace: `batchlake plan --workspace prod` passes this file.
environment    = "prod"
aws_account_id = "333333333333" # replace with your prod account id
aws_region     = "eu-west-1"

schedules_enabled                 = true
log_retention_in_days             = 365
athena_results_expiration_in_days = 30
bytes_scanned_cutoff_per_query    = 107374182400 # 100 GiB

transform = {
  worker_type        = "G.2X"
  number_of_workers  = 4
  timeout_in_minutes = 120
  max_retries        = 1
}
