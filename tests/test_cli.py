"""The CLI end to end against a moto server on 127.0.0.1, reached over real HTTP via --endpoint-url."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.report.json_report import validate_report
from tests.conftest import REGION, SPECS, clients_for
from tests.faultproxy import Fault, FaultProxy

ACCOUNT = "123456789012"


def audit(endpoint: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["audit", "--specs", str(SPECS), "--endpoint-url", endpoint, "--out", str(out), *extra],
        catch_exceptions=False,
    )
    report_text = (out / "drift-report.json").read_text()
    validate_report(report_text)
    assert (out / "drift-report.md").read_text().startswith("#")
    return result.exit_code, json.loads(report_text), result.output


def not_passing(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(bucket, control, status) of every failing result; account results as bucket "<account>"."""
    return sorted((r["bucket"] if r["scope"] == "bucket" else f"<{r['scope']}>", r["control"], r["status"])
                  for r in report["results"] if r["status"] != "pass")


def test_seed_account_configured_as_the_seed_says_passes_everything(seeded_server: str, tmp_path: Path) -> None:
    code, report, _ = audit(seeded_server, tmp_path)
    assert not_passing(report) == []
    assert code == 0
    assert report["summary"]["compliant"] is True
    controls = {(r["bucket"], r["control"]) for r in report["results"]}
    # every control each spec names yields exactly one result
    assert ("amply-storage-prod", "lifecycle") in controls
    assert ("amply-public-data", "public_access") in controls
    assert ("amply-frontend-prod", "website") in controls
    assert ("amply-backups-prod", "tls_only") in controls
    assert ("amply-frontend-prod", "objects") in controls and ("amply-public-data", "objects") in controls
    assert ("amply-storage-prod", "alarms") in controls
    assert ("amply-widgets-prod", "cross_account") in controls
    role = [r for r in report["results"] if r["scope"] == "principal"]
    assert [(r["control"], r["principal"], r["bucket"]) for r in role] == [
        ("principals", "arn:aws:iam::123456789012:role/amply-app", None)]
    assert len(controls) == len(report["results"]) == 23


def _policy(s3: Any, bucket: str, statement: dict[str, Any]) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def _other_key(s3: Any, kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    s3.put_bucket_encryption(Bucket="amply-storage-prod", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})


DRIFTS: dict[str, tuple[Callable[[Any, Any, Any], object], str, str, str]] = {
    "suspended versioning": (
        lambda s3, kms, sc: s3.put_bucket_versioning(
            Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Suspended"}),
        "amply-storage-prod", "versioning", "Versioning is Suspended"),
    "wildcard CORS origin": (
        lambda s3, kms, sc: s3.put_bucket_cors(Bucket="amply-frontend-prod", CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"],
             "MaxAgeSeconds": 3600}]}),
        "amply-frontend-prod", "cors", "allowed_origins is [*]"),
    "missing TLS-only policy": (
        lambda s3, kms, sc: s3.delete_bucket_policy(Bucket="amply-backups-prod"),
        "amply-backups-prod", "tls_only", "no"),
    "TLS deny narrowed to s3:Get*": (
        lambda s3, kms, sc: _policy(s3, "amply-storage-prod", {
            "Effect": "Deny", "Principal": "*", "Action": "s3:Get*",
            "Resource": ["arn:aws:s3:::amply-storage-prod", "arn:aws:s3:::amply-storage-prod/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        "amply-storage-prod", "tls_only", "s3:Get*"),
    "public ACL on a private bucket": (
        lambda s3, kms, sc: s3.put_bucket_acl(Bucket="amply-backups-prod", ACL="public-read"),
        "amply-backups-prod", "public_access", "AllUsers"),
    "unmanaged bucket": (
        lambda s3, kms, sc: s3.create_bucket(
            Bucket="amply-scratch", CreateBucketConfiguration={"LocationConstraint": REGION}),
        "amply-scratch", "managed", "not described by any spec"),
    "lifecycle expiration changed": (
        lambda s3, kms, sc: s3.put_bucket_lifecycle_configuration(
            Bucket="amply-storage-prod", LifecycleConfiguration={"Rules": [
                {"ID": "archive-exports", "Status": "Enabled", "Filter": {"Prefix": "exports/"},
                 "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"},
                                 {"Days": 365, "StorageClass": "GLACIER"}]},
                {"ID": "cleanup-temp", "Status": "Enabled", "Filter": {"Prefix": "temp/"},
                 "Expiration": {"Days": 30}}]}),
        "amply-storage-prod", "lifecycle", "cleanup-temp: expiration_days is 30"),
    "encryption under another KMS key": (
        lambda s3, kms, sc: _other_key(s3, kms),
        "amply-storage-prod", "encryption", "alias/amply-s3-key"),
    "website hosting removed": (
        lambda s3, kms, sc: s3.delete_bucket_website(Bucket="amply-frontend-prod"),
        "amply-frontend-prod", "website", "not configured as a website"),
    "public access block flag off": (
        lambda s3, kms, sc: s3.put_public_access_block(Bucket="amply-storage-prod", PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False}),
        "amply-storage-prod", "public_access_block", "RestrictPublicBuckets is false"),
    "account-level block stops the public read": (
        lambda s3, kms, sc: sc.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True}),
        "amply-public-data", "public_access", "account-level RestrictPublicBuckets"),
    "public-read policy removed": (
        lambda s3, kms, sc: s3.delete_bucket_policy(Bucket="amply-public-data"),
        "amply-public-data", "public_access", "no policy statement allows anonymous s3:GetObject"),
}


@pytest.mark.parametrize("name", list(DRIFTS))
def test_each_drift_is_reported_on_exactly_its_control(seeded_server: str, tmp_path: Path, name: str) -> None:
    inject, bucket, control, fragment = DRIFTS[name]
    inject(*clients_for(seeded_server))
    code, report, output = audit(seeded_server, tmp_path)
    assert not_passing(report) == [(bucket, control, "drift")]
    result = next(r for r in report["results"] if r["status"] == "drift")
    assert fragment in result["message"]
    assert result["remediation"]
    assert code == 1
    assert f"{bucket} {control}" in output


def test_access_denied_on_one_read_is_an_error_and_exit_3(seeded_server: str, tmp_path: Path) -> None:
    proxy = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    try:
        proxy.faults.append(Fault("GET", "/amply-storage-prod", "policy", 403, "AccessDenied"))
        code, report, _ = audit(proxy.url, tmp_path)
    finally:
        proxy.stop()
    assert not_passing(report) == [
        ("amply-storage-prod", "public_access", "error"),
        ("amply-storage-prod", "tls_only", "error"),
    ]
    errors = [r for r in report["results"] if r["status"] == "error"]
    assert all("GetBucketPolicy failed (AccessDenied)" in r["message"] for r in errors)
    assert code == 3


def test_throttling_that_clears_is_retried_to_a_correct_result(seeded_server: str, tmp_path: Path) -> None:
    proxy = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    try:
        proxy.faults.append(Fault("GET", "/amply-storage-prod", "versioning", 503, "SlowDown", times=2))
        code, report, _ = audit(proxy.url, tmp_path)
        assert proxy.requests["GET /amply-storage-prod?versioning"] == 3
    finally:
        proxy.stop()
    assert not_passing(report) == []
    assert code == 0


def test_throttling_past_retries_is_an_error(seeded_server: str, tmp_path: Path) -> None:
    proxy = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    try:
        proxy.faults.append(Fault("GET", "/amply-storage-prod", "versioning", 503, "SlowDown"))
        code, report, _ = audit(proxy.url, tmp_path)
        assert proxy.requests["GET /amply-storage-prod?versioning"] >= 3
    finally:
        proxy.stop()
    assert not_passing(report) == [("amply-storage-prod", "versioning", "error")]
    assert code == 3


def test_unreachable_endpoint_is_an_error_for_every_control(tmp_path: Path) -> None:
    code, report, _ = audit("http://127.0.0.1:9", tmp_path)
    assert code == 3
    assert report["results"]
    assert {r["status"] for r in report["results"]} == {"error"}


def test_fail_on_high_ignores_low_drift(seeded_server: str, tmp_path: Path) -> None:
    DRIFTS["lifecycle expiration changed"][0](*clients_for(seeded_server))
    code, report, _ = audit(seeded_server, tmp_path, "--fail-on", "high")
    assert not_passing(report) == [("amply-storage-prod", "lifecycle", "drift")]
    assert code == 0
    code, _, _ = audit(seeded_server, tmp_path, "--fail-on", "low")
    assert code == 1


def test_json_to_stdout_writes_only_that(seeded_server: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", seeded_server,
                                       "--json", "-", "--out", str(tmp_path / "unused")])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert not (tmp_path / "unused").exists()


def test_bucket_filter_audits_only_that_bucket(seeded_server: str, tmp_path: Path) -> None:
    code, report, _ = audit(seeded_server, tmp_path, "--bucket", "amply-widgets-prod")
    assert {r["bucket"] for r in report["results"]} == {"amply-widgets-prod"}
    assert code == 0


def test_missing_bucket_is_one_exists_drift(server: str, tmp_path: Path) -> None:
    code, report, _ = audit(server, tmp_path)
    assert code == 1
    assert not_passing(report) == sorted(
        [(b, "exists", "drift") for b in
         ["amply-backups-prod", "amply-frontend-prod", "amply-public-data", "amply-storage-prod", "amply-widgets-prod"]]
        + [("<principal>", "principals", "drift")]  # the application's role is not there either
    )


def test_invalid_spec_exits_2_with_file_line_key_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nbuckets:\n  - name: amply-storage-prod\n    versionning: Enabled\n")
    result = CliRunner().invoke(main, ["audit", "--specs", str(bad), "--endpoint-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert f"{bad}:4:" in result.output
    assert "versionning" in result.output
    assert "Traceback" not in result.output


def test_console_script_against_the_server_over_http(seeded_server: str, tmp_path: Path) -> None:
    """The installed entry point, as a cron job runs it, with AWS_ENDPOINT_URL instead of the flag."""
    import os

    env = {**os.environ, "AWS_ENDPOINT_URL": seeded_server}
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "audit", "--specs", str(SPECS), "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["drift"] == 0
    assert not (tmp_path / "r.md").exists()


def test_validate_accepts_the_shipped_specs() -> None:
    result = CliRunner().invoke(main, ["validate", "--specs", str(SPECS)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_a_stalled_response_past_the_deadline_is_an_error_and_reports_are_written(
    seeded_server: str, tmp_path: Path
) -> None:
    """A read that never answers: the run still ends by its --deadline, with a complete report.

    Judged by events, not the clock: the run must return while the proxy still holds the
    stalled response (so it cannot have waited for it), and call the bucket DeadlineExceeded.
    """
    import threading

    proxy = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    stalled, release = threading.Event(), threading.Event()
    original = proxy._match

    def stall(method: str, path: str, body: bytes = b"") -> Fault | None:
        if method == "GET" and path.startswith("/amply-widgets-prod?cors"):
            stalled.set()
            release.wait(60)  # hold the response well past the deadline and the read timeout
        return original(method, path, body)

    proxy._match = stall  # type: ignore[method-assign]
    try:
        # 15 s: ample for the other buckets even on a machine loaded ten times over (they take
        # under a second alone); the stall lasts 60 s, past the deadline and every read timeout.
        code, report, _ = audit(proxy.url, tmp_path, "--deadline", "15")
        still_held = stalled.is_set() and not release.is_set()
    finally:
        release.set()
        proxy.stop()
    assert still_held, "the run returned only after the stalled response was released"
    # the unfinished bucket's controls are errors, and the role (nothing is read after the
    # deadline); every other bucket was audited
    assert not_passing(report) == [("<principal>", "principals", "error"), ("amply-widgets-prod", "cors", "error"),
                                   ("amply-widgets-prod", "cross_account", "error"),
                                   ("amply-widgets-prod", "region", "error")]
    errors = [r for r in report["results"] if r["status"] == "error"]
    assert all(r["error"]["code"] == "DeadlineExceeded" for r in errors)
    assert sum(r["status"] == "pass" for r in report["results"]) == 19
    assert code == 3


def test_controls_filter_reads_and_judges_only_those_controls(seeded_server: str, tmp_path: Path) -> None:
    proxy = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    try:
        code, report, _ = audit(proxy.url, tmp_path, "--controls", "versioning", "--controls", "region")
        reads = {key.split("?")[1] for key in proxy.requests if "?" in key and key.startswith("GET /amply")}
    finally:
        proxy.stop()
    assert {r["control"] for r in report["results"]} == {"versioning", "region"}
    assert reads <= {"versioning", "location", ""}  # no policy, ACL, CORS ... reads
    assert code == 0


def test_diff_reports_new_resolved_and_persisting(tmp_path: Path) -> None:
    def report(results: list[dict[str, Any]]) -> Path:
        path = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({
            "schema_version": 1, "generated_at": "2026-11-24T23:00:00Z",
            "tool": {"name": "s3audit", "version": "0.1.0"},
            "summary": {"buckets": 1, "pass": 0, "drift": 0, "error": 0, "compliant": True},
            "results": [{"bucket": "b", "severity": "low", "expected": 1, "actual": 2, "message": "m",
                         "remediation": None, **r} for r in results]}))
        return path

    old = report([{"control": "versioning", "status": "drift"}, {"control": "cors", "status": "drift"}])
    new = report([{"control": "versioning", "status": "pass"}, {"control": "cors", "status": "drift"},
                  {"control": "website", "status": "error"}])
    result = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert result.exit_code == 1  # something is new
    assert "new: 1\n  -/b/website error" in result.output
    assert "resolved: 1\n  -/b/versioning pass (was drift)" in result.output
    assert "persisting: 1\n  -/b/cors drift (was drift)" in result.output
    same = CliRunner().invoke(main, ["diff", str(old), str(old)])
    assert same.exit_code == 0


def test_explain_and_permissions_come_from_the_registry() -> None:
    explained = CliRunner().invoke(main, ["explain", "tls_only"])
    assert explained.exit_code == 0
    assert explained.output.startswith("S3-TLS-001: ")
    assert "Why it matters:" in explained.output and "s3:GetBucketPolicy" in explained.output
    assert CliRunner().invoke(main, ["explain", "S3-XXX-999"]).exit_code == 2
    typo = CliRunner().invoke(main, ["explain", "tls"])  # a prefix beats a similar spelling (tags)
    assert typo.exit_code == 2 and "did you mean tls_only?" in typo.output
    policy = json.loads(CliRunner().invoke(main, ["permissions", "--specs", str(SPECS / "amply-widgets-prod.yaml")]).output)
    # the widgets spec names region, cors and cross_account only: no KMS or object permissions
    assert {"s3:GetBucketCORS", "s3:GetBucketPolicy"} <= set(policy["Statement"][0]["Action"])
    assert not any(a.startswith("kms:") for a in policy["Statement"][0]["Action"])
    assert len(policy["Statement"]) == 1  # no data-plane statement
    objects = CliRunner().invoke(main, ["permissions", "--specs", str(SPECS / "amply-frontend-prod.yaml")])
    data_plane = json.loads(objects.stdout)["Statement"][1]
    assert data_plane["Sid"] == "S3AuditObjectMetadataRead"
    assert data_plane["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert "`objects` needs data-plane read" in objects.stderr


def test_a_bad_waiver_is_exit_2_with_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "waivers.yaml"
    bad.write_text("version: 1\nbuckets: []\nwaivers:\n  - bucket: b\n    control: cors\n"
                   "    reason: r\n    expires: 2026-02-30\n    owner: o\n")
    result = CliRunner().invoke(main, ["validate", "--specs", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:7:" in result.output and "waivers[0].expires" in result.output


def test_an_unwritable_report_path_is_a_message_not_a_traceback(seeded_server: str, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the report directory should be")
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", seeded_server,
                                       "--json", str(blocker / "r.json")])
    assert result.exit_code == 2
    assert f"cannot write {blocker / 'r.json'}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_undecodable_roles_file_is_exit_2(tmp_path: Path) -> None:
    roles = tmp_path / "roles.txt"
    roles.write_bytes(b"\xff\xfe not utf-8")
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--roles-file", str(roles)])
    assert result.exit_code == 2
    assert "cannot read the roles file" in result.output
    assert isinstance(result.exception, SystemExit)
