"""A sample report built by hand from model dataclasses, shared by the report tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auditor.controls.encryption import EncryptionSpec
from auditor.controls.public_access_block import PublicAccessBlockSpec
from auditor.controls.website import WebsiteSpec
from auditor.model import (
    CorsRule,
    Difference,
    Encryption,
    LifecycleRule,
    PublicAccessBlock,
    Report,
    Result,
    Severity,
    SourceRef,
    Status,
    Transition,
    Website,
)

ACCOUNT = "111122223333"
PROD = "amply-storage-prod"
WEB = "amply-web-assets"
KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ARCHIVE = LifecycleRule(
    id="archive-exports",
    prefix="exports/",
    transitions=(Transition("STANDARD_IA", days=90), Transition("GLACIER", days=365)),
)
CLEANUP = LifecycleRule(id="cleanup-temp", prefix="temp/", expiration_days=7)
CLEANUP_LIVE = LifecycleRule(
    id="cleanup-temp", prefix="temp/", tags=(("class", "scratch"),), expiration_days=30
)
CORS_SPEC = CorsRule(
    allowed_origins=("https://amply-impact.org",),
    allowed_methods=("GET", "HEAD"),
    allowed_headers=("*",),
    max_age_seconds=3600,
)
CORS_LIVE = CorsRule(
    allowed_origins=("*",),
    allowed_methods=("GET", "HEAD", "PUT"),
    allowed_headers=("*",),
    max_age_seconds=3600,
)


def result(**overrides: Any) -> Result:
    """A passing versioning result on the prod bucket, with any field overridden."""
    fields: dict[str, Any] = {
        "bucket": PROD, "control": "versioning", "status": Status.PASS, "severity": Severity.MEDIUM,
        "rule_id": "S3-VER-001", "expected": "Enabled", "actual": "Enabled",
        "message": "Versioning is Enabled", "account": ACCOUNT, "region": "eu-central-1",
    }
    fields.update(overrides)
    return Result(**fields)


def _prod_results() -> list[Result]:
    src = "specs/amply.yaml"
    return [
        result(control="region", rule_id="S3-BKT-003", severity=Severity.HIGH,
               expected="eu-central-1", actual="eu-central-1",
               message="Bucket is in eu-central-1", source=SourceRef(src, 4, 5)),
        result(status=Status.DRIFT, actual="Suspended",
               message="Versioning is Suspended; the spec requires Enabled",
               remediation=f"aws s3api put-bucket-versioning --bucket {PROD} "
               "--versioning-configuration Status=Enabled",
               source=SourceRef(src, 5, 5)),
        result(control="encryption", rule_id="S3-ENC-001", severity=Severity.HIGH,
               expected=EncryptionSpec("aws:kms", "alias/amply-s3-key", True),
               actual=Encryption("aws:kms", KEY_ARN, True),
               message="Default encryption is aws:kms with alias/amply-s3-key"),
        result(control="public_access_block", rule_id="S3-PAB-001", severity=Severity.HIGH,
               expected=PublicAccessBlockSpec(True, True, True, True),
               actual=PublicAccessBlock(True, True, True, True),
               message="All four public access block flags are on"),
        result(control="tls_only", rule_id="S3-TLS-001", status=Status.DRIFT,
               severity=Severity.HIGH, expected=True, actual=False,
               message="The bucket policy allows requests without TLS; the spec requires TLS only",
               remediation=f"aws s3api put-bucket-policy --bucket {PROD} "
               "--policy file://tls-only.json"),
        _lifecycle_drift(),
        result(control="website", rule_id="S3-WEB-001", severity=Severity.MEDIUM,
               expected=False, actual=None, message="The bucket is not a website"),
    ]


def _lifecycle_drift() -> Result:
    return result(
        control="lifecycle", rule_id="S3-LCY-001", status=Status.DRIFT, severity=Severity.LOW,
        expected=(ARCHIVE, CLEANUP), actual=(ARCHIVE, CLEANUP_LIVE),
        message="Lifecycle rule cleanup-temp differs from the spec",
        remediation=f"aws s3api put-bucket-lifecycle-configuration --bucket {PROD} "
        "--lifecycle-configuration file://lifecycle.json",
        differences=(
            Difference("cleanup-temp.expiration_days", 7, 30,
                       "Rule cleanup-temp expires objects after 30 days; the spec requires 7"),
            Difference("cleanup-temp.tags", (), {"class": "scratch"},
                       "Rule cleanup-temp filters on tags class=scratch; the spec has none"),
        ),
        source=SourceRef("specs/amply.yaml", 20, 5),
    )


def _web_results() -> list[Result]:
    return [
        result(bucket=WEB, control="cors", rule_id="S3-COR-001", status=Status.DRIFT,
               expected=(CORS_SPEC,), actual=(CORS_LIVE,),
               message="CORS allows origin * and method PUT; the spec allows neither",
               differences=(
                   Difference("cors[0].allowed_origins", ["https://amply-impact.org"], ["*"],
                              "Origins are *; the spec requires https://amply-impact.org"),
                   Difference("cors[0].allowed_methods", ["GET", "HEAD"], ["GET", "HEAD", "PUT"],
                              "Methods include PUT; the spec allows GET, HEAD"),
               )),
        result(bucket=WEB, control="public_access", rule_id="S3-PUB-001",
               severity=Severity.CRITICAL, expected="read", actual="read",
               message="Anonymous read reaches the objects and nothing more is public"),
        result(bucket=WEB, control="tls_only", rule_id="S3-TLS-001", status=Status.ERROR,
               severity=Severity.HIGH, expected=True, actual=None,
               message="GetBucketPolicy failed (AccessDenied): Access Denied"),
        result(bucket=WEB, control="website", rule_id="S3-WEB-001",
               expected=WebsiteSpec("index.html", "index.html"),
               actual=Website("index.html", "index.html"),
               message="Website hosting serves index.html and index.html"),
    ]


def _other_results() -> list[Result]:
    return [
        result(bucket="amply-backups", control="exists", rule_id="S3-BKT-001",
               status=Status.DRIFT, severity=Severity.HIGH, expected=True, actual=False,
               message="Bucket amply-backups does not exist; the spec names it",
               account=None, region=None, source=SourceRef("specs/amply.yaml", 40, 11)),
        result(bucket="amply-legacy-tmp", control="managed", rule_id="S3-BKT-002",
               status=Status.DRIFT, severity=Severity.LOW, expected=None,
               actual="amply-legacy-tmp", message="No spec entry matches bucket amply-legacy-tmp",
               region="us-east-1"),
    ]


def build_sample_report(**overrides: Any) -> Report:
    """Three spec'd buckets and one unmanaged: passes, drifts (lifecycle, CORS) and an error."""
    fields: dict[str, Any] = {
        "generated_at": "2026-11-24T23:00:00Z",
        "tool_version": "0.1.0",
        "results": tuple(_prod_results() + _web_results() + _other_results()),
        "accounts": (ACCOUNT,),
        "spec_files": ("specs/amply.yaml",),
        "duration_seconds": 2.4567,
    }
    fields.update(overrides)
    return Report(**fields)


@pytest.fixture
def sample_report() -> Report:
    return build_sample_report()


@pytest.fixture
def make_result() -> Callable[..., Result]:
    return result


@pytest.fixture
def make_report() -> Callable[..., Report]:
    return build_sample_report
