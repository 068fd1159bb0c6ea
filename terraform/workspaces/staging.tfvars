# Values of the staging workspace: `batchlake plan --workspace staging` passes this file.
environment    = "staging"
aws_account_id = "222222222222" # replace with your staging account id
aws_region     = "eu-west-1"

schedules_enabled     = true
log_retention_in_days = 30

transform = {
  worker_type       = "G.1X"
  number_of_workers = 2
}
