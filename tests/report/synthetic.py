"""A large synthetic report (hundreds of buckets, 12+ controls, a history) built from model
values, for the report tests and for benchmarks/screenshot_html.py.

Deterministic: bucket i's results depend only on i, so tests can state exact counts.
"""

from __future__ import annotations

from dataclasses import replace

from auditor.model import (
    AwsFailure,
    Change,
    Report,
    Result,
    Scope,
    Severity,
    SourceRef,
    Status,
    TrendPoint,
    Waiver,
)

ACCOUNT = "111122223333"
SPEC = "specs/fleet.yaml"
# Twelve controls per bucket: the contract's nine, three of the additive ones.
CONTROLS: tuple[tuple[str, str, Severity, object], ...] = (
    ("region", "S3-BKT-003", Severity.HIGH, "eu-central-1"),
    ("versioning", "S3-VER-001", Severity.MEDIUM, "Enabled"),
    ("encryption", "S3-ENC-001", Severity.HIGH, {"algorithm": "aws:kms"}),
    ("public_access_block", "S3-PAB-001", Severity.HIGH, {"block_public_acls": True}),
    ("public_access", "S3-PUB-001", Severity.CRITICAL, "none"),
    ("tls_only", "S3-TLS-001", Severity.HIGH, True),
    ("lifecycle", "S3-LCY-001", Severity.LOW, []),
    ("cors", "S3-COR-001", Severity.MEDIUM, []),
    ("website", "S3-WEB-001", Severity.MEDIUM, False),
    ("ownership", "S3-OWN-001", Severity.MEDIUM, "BucketOwnerEnforced"),
    ("logging", "S3-LOG-001", Severity.LOW, {"target_bucket": "amply-logs"}),
    ("object_lock", "S3-OBL-001", Severity.LOW, False),
)
FRAMEWORKS = {"tls_only": (("aws-fsbp", ("S3.5",)), ("cis-aws", ("2.1.1",))),
              "public_access": (("aws-fsbp", ("S3.2", "S3.3")),)}
WAIVER = Waiver(bucket="fleet-0*", control="cors", reason="partner uploads until Q3",
                expires="2027-06-30", owner="web-team", ticket="WEB-9")


def bucket_name(i: int) -> str:
    return f"fleet-{i:04d}"


def _status(i: int, control: str) -> Status:
    if control == "tls_only" and i % 5 != 0:
        return Status.DRIFT  # 4 of 5 buckets: the same drift, 240 of 300
    if control == "versioning" and i % 7 == 3:
        return Status.DRIFT
    if control == "logging" and i % 50 == 7:
        return Status.ERROR
    if control == "cors" and i % 60 == 1:
        return Status.WAIVED
    return Status.PASS


def _result(i: int, control: str, rule_id: str, severity: Severity, want: object) -> Result:
    status = _status(i, control)
    bucket = bucket_name(i)
    base = Result(
        bucket=bucket, control=control, status=status, severity=severity, rule_id=rule_id,
        expected=want, actual=want, message=f"{control} is as the spec says",
        account=ACCOUNT, region="eu-central-1", source=SourceRef(SPEC, 3 + len(control), 5),
        frameworks=FRAMEWORKS.get(control, ()),
    )
    if status is Status.DRIFT and control == "tls_only":
        return replace(base, actual=False, change=Change.PERSISTING if i % 2 else Change.NEW,
                       first_seen="2026-11-10T02:15:00Z",
                       message="The bucket policy allows requests without TLS; the spec requires TLS only",
                       remediation=f"aws s3api put-bucket-policy --bucket {bucket} --policy file://tls-only.json")
    if status is Status.DRIFT:
        return replace(base, actual="Suspended", change=Change.NEW, first_seen="2026-11-24T02:15:00Z",
                       message="Versioning is Suspended; the spec requires Enabled",
                       remediation=f"aws s3api put-bucket-versioning --bucket {bucket} "
                       "--versioning-configuration Status=Enabled")
    if status is Status.ERROR:
        failure = AwsFailure("GetBucketLogging", "AccessDenied", "Access Denied")
        return replace(base, actual=None, message=f"Could not evaluate logging: {failure.describe()}",
                       error=failure)
    if status is Status.WAIVED:
        return replace(base, actual=[{"allowed_origins": ["*"]}], waiver=WAIVER,
                       message="CORS allows origin *; the spec allows none")
    return base


def _fleet(buckets: int) -> list[Result]:
    return [_result(i, *control) for i in range(buckets) for control in CONTROLS]


def _extras() -> list[Result]:
    return [
        Result(bucket=None, scope=Scope.ACCOUNT, control="public_access_block", status=Status.DRIFT,
               severity=Severity.HIGH, rule_id="S3-PAB-001", expected={"block_public_acls": True},
               actual={"block_public_acls": False}, account=ACCOUNT,
               message="The account's public access block is off; the spec requires all four flags",
               remediation=f"aws s3control put-public-access-block --account-id {ACCOUNT} ...",
               source=SourceRef("specs/accounts.yaml", 3, 5),
               frameworks=(("aws-fsbp", ("S3.1",)), ("cis-aws", ("2.1.4",)))),
        Result(bucket=None, scope=Scope.PRINCIPAL, control="principals", status=Status.PASS,
               severity=Severity.HIGH, rule_id="S3-IAM-001", expected=[], actual=[],
               account=ACCOUNT, principal=f"arn:aws:iam::{ACCOUNT}:role/amply-app",
               message="The role is allowed exactly what the spec lists"),
        Result(bucket="rogue-uploads", control="managed", status=Status.DRIFT, severity=Severity.LOW,
               rule_id="S3-BKT-002", expected=None, actual="rogue-uploads", account=ACCOUNT,
               region="us-east-1", message="No spec entry matches bucket rogue-uploads", change=Change.NEW,
               first_seen="2026-11-24T02:15:00Z"),
    ]


def trend(points: int, last: Report) -> tuple[TrendPoint, ...]:
    """`points` nightly runs ending with `last`: drift falling, an error spike in the middle."""
    out = []
    for n in range(points - 1):
        day = 10 + n
        out.append(TrendPoint(f"2026-11-{day:02d}T02:15:00Z", passed=3300 + 4 * n,
                              drift=330 - 5 * n, error=40 if n == points // 2 else 6, waived=5))
    s = last.summary
    out.append(TrendPoint(last.generated_at, s.passed, s.drift, s.error, s.waived))
    return tuple(out)


def big_report(buckets: int = 300, history: int = 14) -> Report:
    """`buckets` buckets x 12 controls, an account and a role result, a rogue bucket, a trend."""
    report = Report(
        generated_at=f"2026-11-{10 + history - 1:02d}T02:15:00Z", tool_version="0.1.0",
        results=tuple(_extras() + _fleet(buckets)), accounts=(ACCOUNT,),
        spec_files=(SPEC, "specs/accounts.yaml"), duration_seconds=42.0,
        baseline="/var/lib/s3audit/drift-report-20261122T021500Z.json",
    )
    return replace(report, trend=trend(history, report) if history else ())
