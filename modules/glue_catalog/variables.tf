variable "database_name" {
  description = "Glue database of the lake: raw_<dataset> tables (crawled) and <dataset> tables (published by transforms)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "database_name must be lowercase letters, digits and underscores (Athena-compatible)."
  }
}

variable "name_prefix" {
  description = "Prefix of crawler and security configuration names, e.g. batchlake-dev."
  type        = string
}

variable "datasets" {
  description = "One raw-zone crawler per dataset. raw_s3_path is the dataset's raw folder (s3://bucket/raw/<dataset>/); schema_change_policy comes from the contract (update | log | fail)."
  type = map(object({
    raw_s3_path          = string
    schema_change_policy = optional(string, "update")
  }))

  validation {
    condition     = alltrue([for d in values(var.datasets) : contains(["update", "log", "fail"], d.schema_change_policy)])
    error_message = "schema_change_policy must be one of update, log, fail (as in the contract's schema.change_policy)."
  }
  validation {
    condition     = alltrue([for d in values(var.datasets) : startswith(d.raw_s3_path, "s3://") && endswith(d.raw_s3_path, "/")])
    error_message = "raw_s3_path must be an s3:// folder ending with /."
  }
}

variable "crawler_role_arn" {
  description = "Role the crawlers run as (iam module, role crawler)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting crawler and job logs, job bookmarks and S3 writes of Glue."
  type        = string
}

variable "recrawl_new_folders_only" {
  description = "Crawl only folders added since the last crawl (each ingest run adds one). AWS then requires LOG schema change behaviour; set false to let the contract's update policy change the raw table."
  type        = bool
  default     = true
}

variable "raw_table_prefix" {
  description = "Crawled tables are named <prefix><dataset>; batchlake expects raw_."
  type        = string
  default     = "raw_"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
