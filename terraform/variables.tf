variable "environment" {
  description = "Name of this workspace's environment; must equal the selected workspace (guards against applying one workspace's values to another)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod (one values file per workspace in workspaces/)."
  }
}

variable "aws_account_id" {
  description = "The AWS account of this workspace; the provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "aws_region" {
  description = "AWS region of the lake."
  type        = string
}

variable "schedules_enabled" {
  description = "Start the scheduled workflow triggers (false: created but paused)."
  type        = bool
  default     = true
}

variable "ingest_runtime" {
  description = "Runtime of the ingest jobs: glueetl (Glue 5.0, Python 3.11, what the wheels require) or pythonshell (Python 3.9); see docs/decisions/0405."
  type        = string
  default     = "glueetl"
}

variable "transform" {
  description = "Spark transform job sizing for every dataset."
  type = object({
    worker_type        = optional(string, "G.1X")
    number_of_workers  = optional(number, 2)
    timeout_in_minutes = optional(number, 60)
    max_retries        = optional(number, 1)
  })
  default = {}
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena cost guard: queries scanning more are cancelled."
  type        = number
  default     = 10737418240
}

variable "log_retention_in_days" {
  description = "Retention of the Glue job log groups."
  type        = number
  default     = 90
}

variable "athena_results_expiration_in_days" {
  description = "Athena query results are deleted after this many days."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets and the workgroup's history (throw-away workspaces only)."
  type        = bool
  default     = false
}

variable "analyst_trusted_principal_arns" {
  description = "Principals allowed to assume the analyst role (empty: IAM principals of the account allowed to)."
  type        = list(string)
  default     = []
}

variable "key_administrator_arns" {
  description = "Administrators of the lake's KMS key (empty: the account root, i.e. the account's IAM policies)."
  type        = list(string)
  default     = []
}

variable "source_secret_arns" {
  description = "Secrets Manager secrets with source API credentials (contracts reference them by name)."
  type        = list(string)
  default     = []
}

variable "artifacts_manifest_path" {
  description = "Manifest written by `make package` (name, version, sha256 of every wheel and job script), relative to this folder."
  type        = string
  default     = "../dist/manifest.json"
}
