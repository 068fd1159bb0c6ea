variable "name_prefix" {
  description = "Prefix of job, workflow, trigger and log group names, e.g. batchlake-dev."
  type        = string
}

variable "datasets" {
  description = "One ingest job, transform job and workflow per dataset. schedule: AWS cron()/rate() of the contract, null = on demand; contract_uri: the uploaded contract YAML; crawler_name: the raw crawler (glue_catalog module)."
  type = map(object({
    schedule     = optional(string)
    contract_uri = string
    crawler_name = string
  }))

  validation {
    condition     = alltrue([for d in values(var.datasets) : d.schedule == null || can(regex("^(cron|rate)\\(.+\\)$", d.schedule))])
    error_message = "schedule must be an AWS cron(...) or rate(...) expression, or null."
  }
}

variable "ingest_role_arn" {
  description = "Role of the ingest jobs (iam module, role ingest)."
  type        = string
}

variable "transform_role_arn" {
  description = "Role of the transform jobs (iam module, role transform)."
  type        = string
}

variable "raw_bucket_name" {
  description = "Raw bucket, passed to the jobs as --raw_bucket."
  type        = string
}

variable "processed_bucket_name" {
  description = "Processed bucket, passed to the transform jobs as --processed_bucket (also holds Glue's temporary dir under staging/)."
  type        = string
}

variable "database_name" {
  description = "Glue database, passed to the transform jobs as --database."
  type        = string
}

variable "kms_key_arn" {
  description = "Lake KMS key, passed to the jobs as --kms_key_arn and encrypting the job log groups."
  type        = string
}

variable "security_configuration_name" {
  description = "Glue security configuration of the jobs (glue_catalog module)."
  type        = string
}

variable "ingest_artifacts" {
  description = "Exact artifacts of the ingest job: entry script and wheels (batchlake-core, batchlake-ingest) as s3:// URIs."
  type = object({
    script_uri = string
    wheel_uris = list(string)
  })
}

variable "transform_artifacts" {
  description = "Exact artifacts of the transform job: entry script and wheels (batchlake-core, batchlake-transforms) as s3:// URIs."
  type = object({
    script_uri = string
    wheel_uris = list(string)
  })
}

variable "ingest_runtime" {
  description = "Runtime of the ingest jobs: glueetl (Glue 5.0, Python 3.11, 2 G.1X workers; Spark unused) or pythonshell (Python 3.9, 1/16 DPU: only for wheels that support Python 3.9). See docs/decisions/0405."
  type        = string
  default     = "glueetl"

  validation {
    condition     = contains(["pythonshell", "glueetl"], var.ingest_runtime)
    error_message = "ingest_runtime must be pythonshell or glueetl."
  }
}

variable "ingest_max_capacity" {
  description = "DPUs of a Python shell ingest job: 0.0625 or 1 (ignored for glueetl)."
  type        = number
  default     = 0.0625

  validation {
    condition     = contains([0.0625, 1], var.ingest_max_capacity)
    error_message = "ingest_max_capacity must be 0.0625 or 1 (Python shell)."
  }
}

variable "transform" {
  description = "Spark transform job sizing: worker type and count, timeout and retries."
  type = object({
    worker_type        = optional(string, "G.1X")
    number_of_workers  = optional(number, 2)
    timeout_in_minutes = optional(number, 60)
    max_retries        = optional(number, 1)
  })
  default = {}

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X", "G.025X"], var.transform.worker_type)
    error_message = "transform.worker_type must be one of G.1X, G.2X, G.4X, G.8X, G.025X."
  }
  validation {
    condition     = var.transform.number_of_workers >= 2
    error_message = "transform.number_of_workers must be at least 2 (one driver, one executor)."
  }
}

variable "ingest_timeout_in_minutes" {
  description = "Ingest job timeout."
  type        = number
  default     = 60
}

variable "ingest_max_retries" {
  description = "Retries of a failed ingest run (safe: a run without manifest is invisible and the cursor is saved last)."
  type        = number
  default     = 1
}

variable "schedules_enabled" {
  description = "Start the scheduled triggers on creation. false keeps them created but paused (e.g. in dev)."
  type        = bool
  default     = true
}

variable "log_retention_in_days" {
  description = "Retention of the transform jobs' continuous log groups."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
