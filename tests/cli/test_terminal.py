"""The terminal summary as pure functions of the Report: verdict last, worst first, rolled up
past a screenful, one line per error cause, and nothing from AWS that can drive a terminal."""

from __future__ import annotations

from auditor.cli.terminal import escape, safe_line, summary_lines
from auditor.model import AwsFailure, Change, Report, Result, Scope, Severity, Status

RULES = {"tls_only": ("S3-TLS-001", Severity.HIGH), "versioning": ("S3-VER-001", Severity.MEDIUM),
         "public_access": ("S3-PUB-001", Severity.CRITICAL), "lifecycle": ("S3-LCY-001", Severity.LOW)}


def _result(bucket: str | None, control: str, status: Status = Status.DRIFT, message: str = "m",
            error: AwsFailure | None = None, change: Change | None = None) -> Result:
    rule_id, severity = RULES.get(control, ("S3-BKT-002", Severity.MEDIUM))
    return Result(bucket=bucket, control=control, status=status, severity=severity, rule_id=rule_id,
                  expected=True, actual=False, message=message, error=error, change=change,
                  scope=Scope.BUCKET if bucket else Scope.ACCOUNT, account="123456789012")


def _report(*results: Result) -> Report:
    return Report("2026-11-24T23:00:00Z", "0.1.0", tuple(results))


def test_the_verdict_is_the_last_line_and_findings_come_worst_first() -> None:
    report = _report(_result("a", "lifecycle"), _result("b", "public_access"), _result("c", "versioning"),
                     _result("d", "tls_only"), _result("e", "versioning", Status.PASS))
    lines = summary_lines(report, ["reports/drift-report.json"])
    assert lines[-1] == "s3audit: 5 bucket(s), 1 pass, 4 drift, 0 error: NOT compliant"
    assert [line.split()[1] for line in lines[:4]] == ["critical", "high", "medium", "low"]
    assert lines[-2] == "  report: reports/drift-report.json"


def test_past_a_screenful_findings_roll_up_per_rule() -> None:
    results = [_result(f"acme-{i:03}", "tls_only") for i in range(240)]
    results += [_result(f"acme-{i:03}", "versioning") for i in range(240, 300)]
    lines = summary_lines(_report(*results), height=40)
    assert len(lines) < 10
    assert "  drift  high     S3-TLS-001 tls_only: 240 buckets, e.g. acme-000, acme-001, acme-002, ..." in lines
    assert "  drift  medium   S3-VER-001 versioning: 60 buckets, e.g. acme-240, acme-241, acme-242, ..." in lines
    assert lines[-1].startswith("s3audit: 300 bucket(s), 0 pass, 300 drift")
    # within a screenful, every finding has its own line
    assert len(summary_lines(_report(*results[:20]), height=40)) == 21


def test_identical_error_causes_are_one_line() -> None:
    missing = AwsFailure("ListBuckets", "NoCredentialsError", "Unable to locate credentials",
                         "default credential chain")
    results = [_result(f"b{i}", c, Status.ERROR, error=AwsFailure(api, missing.code, missing.message,
                                                                  missing.credentials))
               for i in range(300) for c, api in (("tls_only", "GetBucketPolicy"), ("versioning", "GetBucketVersioning"))]
    results.append(_result(None, "managed", Status.ERROR, error=missing))
    lines = summary_lines(_report(*results))
    errors = [line for line in lines if line.startswith("  error")]
    assert errors == ["  error  no AWS credentials found (default credential chain): Unable to locate "
                      "credentials (NoCredentialsError); 600 controls on 300 buckets and 1 account check "
                      "not evaluated; set --profile, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"]


def test_an_unreachable_endpoint_is_one_line_whatever_url_each_read_had() -> None:
    results = [_result(f"b{i}", "versioning", Status.ERROR, error=AwsFailure(
        "GetBucketVersioning", "EndpointConnectionError",
        f'Could not connect to the endpoint URL: "http://127.0.0.1:9/b{i}?versioning"')) for i in range(50)]
    errors = [line for line in summary_lines(_report(*results)) if line.startswith("  error")]
    assert len(errors) == 1
    assert 'the endpoint does not answer: Could not connect to the endpoint URL: "http://127.0.0.1:9"' in errors[0]


def test_a_read_own_trouble_is_one_line_per_api_and_code() -> None:
    denied = AwsFailure("GetBucketPolicy", "AccessDenied", "Access Denied")
    results = [_result("a", "tls_only", Status.ERROR, error=denied),
               _result("a", "public_access", Status.ERROR, error=denied),
               _result("b", "tls_only", Status.ERROR, error=denied),
               _result("a", "versioning", Status.ERROR, error=AwsFailure("GetBucketVersioning", "SlowDown", "x"))]
    errors = [line for line in summary_lines(_report(*results)) if line.startswith("  error")]
    assert errors == ["  error  GetBucketPolicy AccessDenied: Access Denied; 3 controls on 2 buckets not evaluated",
                      "  error  GetBucketVersioning SlowDown: x; 1 control on a (versioning) not evaluated"]


def test_quiet_prints_the_errors_and_nothing_else() -> None:
    report = _report(_result("a", "tls_only"), _result("b", "versioning", Status.ERROR, error=AwsFailure(
        "GetBucketVersioning", "AccessDenied", "Access Denied")))
    assert summary_lines(report, ["r.json"], quiet=True) == [
        "  error  GetBucketVersioning AccessDenied: Access Denied; 1 control on b (versioning) not evaluated"]
    assert summary_lines(_report(_result("a", "tls_only")), ["r.json"], quiet=True) == []


def test_fixed_findings_are_listed_and_change_is_shown() -> None:
    report = _report(_result("a", "tls_only", change=Change.NEW),
                     _result("b", "versioning", Status.PASS, change=Change.RESOLVED))
    lines = summary_lines(report)
    assert lines[0].startswith("  drift  high     a tls_only [new]: ")
    assert lines[1].startswith("  fixed  medium   b versioning: ")


def test_values_from_aws_cannot_drive_the_terminal_or_start_a_log_line() -> None:
    hostile = "evil\x1b[2J\x07\rname\n::error file=x::pwned\u202e"
    line = summary_lines(_report(_result(hostile, "tls_only", message=f"origin {hostile}")))[0]
    assert "\x1b" not in line and "\n" not in line and "\r" not in line and "\x07" not in line
    assert "\u202e" not in line and "\\x1b[2J" in line and "\\x0a::error" in line
    assert safe_line("::error::x") == "\\::error::x"
    assert escape("x" * 1000).endswith("…") and len(escape("x" * 1000)) == 240
