"""s3audit: audit live S3 bucket configuration against YAML specs."""

__version__ = "0.1.0"
