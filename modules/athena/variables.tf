variable "workgroup_name" {
  description = "Name of the Athena workgroup."
  type        = string
}

variable "results_bucket_name" {
  description = "Bucket of the query results; results go under athena-results/."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the query results (SSE-KMS)."
  type        = string
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Queries scanning more than this many bytes are cancelled (cost guard). Minimum 10 MB."
  type        = number
  default     = 10737418240 # 10 GiB

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "bytes_scanned_cutoff_per_query must be at least 10485760 (10 MB), the Athena minimum."
  }
}

variable "database_name" {
  description = "Default database of the named queries."
  type        = string
}

variable "named_queries" {
  description = "Saved queries by name (e.g. orders/revenue_by_day): the SQL text, a description, and optionally another database."
  type = map(object({
    query       = string
    description = optional(string, "")
    database    = optional(string)
  }))
  default = {}
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the workgroup with its query history. Only for throw-away workspaces."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the workgroup."
  type        = map(string)
  default     = {}
}
