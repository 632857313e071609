"""The report the CI-format tests (SARIF, JUnit) share, built by hand from model dataclasses."""

from __future__ import annotations

from collections.abc import Callable

from auditor.model import AwsFailure, Change, Report, Result, Severity, SourceRef, Status, Waiver

# The CI formats (SARIF, JUnit) share one report: a pass, drifts with spec lines, an error,
# a waived result and a new drift.
CI_ACCOUNT = "111122223333"
CI_PROD = "amply-storage-prod"
CI_WEB = "amply-web-assets"
CI_WAIVER = Waiver(
    bucket="amply-web-*", control="cors", reason="Partner uploads until the migration",
    expires="2026-12-31", owner="web-team", ticket="OPS-42",
    source=SourceRef("specs/waivers.yaml", 3, 5),
)


def ci_report(make_result: Callable[..., Result]) -> Report:
    """A pass, a drift with a spec line, an error, a waived result and a new drift."""
    return Report(
        generated_at="2026-11-24T23:00:00Z", tool_version="0.1.0", accounts=(CI_ACCOUNT,),
        duration_seconds=2.4567,
        results=(
            make_result(source=SourceRef("specs/amply.yaml", 5, 5)),
            make_result(control="tls_only", rule_id="S3-TLS-001", status=Status.DRIFT,
                        severity=Severity.HIGH, expected=True, actual=False,
                        message="The bucket policy allows requests without TLS",
                        remediation=f"aws s3api put-bucket-policy --bucket {CI_PROD} --policy x",
                        source=SourceRef("specs/amply.yaml", 12, 5),
                        change=Change.PERSISTING, first_seen="2026-11-01T00:00:00Z"),
            make_result(bucket=CI_WEB, control="public_access", rule_id="S3-PUB-001",
                        status=Status.ERROR, severity=Severity.CRITICAL, expected="read",
                        actual=None, message="Could not evaluate public_access: "
                        "GetBucketPolicy failed (AccessDenied): Access Denied",
                        error=AwsFailure("GetBucketPolicy", "AccessDenied", "Access Denied")),
            make_result(bucket=CI_WEB, control="cors", rule_id="S3-COR-001", status=Status.WAIVED,
                        expected=[], actual=[{"allowed_origins": ["*"]}],
                        message="CORS allows origin *; the spec allows none",
                        source=SourceRef("specs/amply.yaml", 30, 5), waiver=CI_WAIVER),
            make_result(control="lifecycle", rule_id="S3-LCY-001", status=Status.DRIFT,
                        severity=Severity.LOW, expected=[], actual=[{"id": "cleanup"}],
                        message="Lifecycle rule cleanup is not in the spec",
                        remediation="aws s3api put-bucket-lifecycle-configuration ...",
                        source=SourceRef("specs/amply.yaml", 20, 5),
                        change=Change.NEW, first_seen="2026-11-24T23:00:00Z"),
        ),
    )
