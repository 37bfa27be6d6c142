"""Declared settings: where backup files live (the local directory or S3-compatible storage).

One part of the registry (`settings.registry` joins the parts). `local` keeps today's behaviour
(the directory `backup_dir`); `s3` streams every backup file to a bucket of AWS S3, Supabase
Storage, Google Cloud Storage's S3 interface or MinIO, so every instance sharing the metadata
store verifies and restores every backup (issue 18).
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting

DECLARED: tuple[Setting, ...] = (
    Setting(
        "backup_storage",
        "local",
        "Where new backup files go: `local` (the directory backup_dir, one instance) or `s3` "
        "(an S3-compatible bucket every instance reaches; needs the `[s3]` extra). Backups "
        "already taken stay where the catalogue says they are.",
        "backups",
        choices=("local", "s3"),
    ),
    Setting(
        "backup_s3_endpoint_url",
        "",
        "Endpoint URL of the S3-compatible storage (MinIO, Supabase Storage's "
        "https://<project>.supabase.co/storage/v1/s3, https://storage.googleapis.com). "
        "Empty: AWS S3 of backup_s3_region.",
        "backups",
    ),
    Setting("backup_s3_bucket", "", "Bucket of the backup files (must exist).", "backups"),
    Setting(
        "backup_s3_prefix",
        "petcare-backups",
        "Key prefix of the backup files in the bucket (two deployments sharing a bucket need "
        "different ones).",
        "backups",
    ),
    Setting("backup_s3_region", "us-east-1", "Region of the bucket.", "backups"),
    Setting(
        "backup_s3_access_key_id",
        "",
        "Access key id of the backup storage (empty: the AWS SDK's own credential chain).",
        "backups",
        secret=True,
    ),
    Setting(
        "backup_s3_secret_access_key",
        "",
        "Secret access key of the backup storage.",
        "backups",
        secret=True,
    ),
    Setting(
        "backup_s3_path_style",
        False,
        "Address the bucket in the URL path (MinIO, Supabase Storage) instead of the host name.",
        "backups",
        bool,
    ),
)
