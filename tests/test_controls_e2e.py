"""Account scope and the controls added with the restructure (account public_access_block,
ownership, object_acls, min_tls_version, cross_account), end to end: the CLI against a moto
server on 127.0.0.1 over HTTP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from auditor.cli import main
from auditor.report.json_report import validate_report
from tests.conftest import SPECS, clients_for

ACCOUNT = "123456789012"  # moto's account
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}


def _specs(tmp_path: Path, extra: str) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs, dirs_exist_ok=True)
    (specs / "extra.yaml").write_text(extra)
    return specs


def _audit(endpoint: str, specs: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["audit", "--specs", str(specs), "--endpoint-url", endpoint,
                                       "--json", str(out), "--quiet", *extra])
    text = out.read_text()
    validate_report(text)
    return result.exit_code, json.loads(text)


ACCOUNT_SPEC = """\
version: 1
accounts:
  - match: "*"
    public_access_block: {block_public_acls: true, ignore_public_acls: true,
                          block_public_policy: true, restrict_public_buckets: true}
"""


def test_an_account_without_a_block_drifts_at_account_scope(seeded_server: str, tmp_path: Path) -> None:
    code, report = _audit(seeded_server, _specs(tmp_path, ACCOUNT_SPEC), tmp_path)
    account = [r for r in report["results"] if r["scope"] == "account"]
    assert len(account) == 1
    (result,) = account
    assert (result["bucket"], result["account"], result["control"], result["status"]) == (
        None, ACCOUNT, "public_access_block", "drift")
    assert result["rule_id"] == "S3-PAB-002"
    assert result["remediation"].startswith(
        f"aws s3control put-public-access-block --account-id {ACCOUNT} ")
    assert {d["path"] for d in result["differences"]} == {
        "public_access_block.block_public_acls", "public_access_block.ignore_public_acls",
        "public_access_block.block_public_policy", "public_access_block.restrict_public_buckets"}
    assert result["source"]["file"].endswith("extra.yaml") and result["source"]["line"] == 4
    # account results are not buckets
    assert report["summary"]["buckets"] == 5
    assert code == 1


def test_an_account_with_the_block_passes_and_it_reaches_public_access(seeded_server: str, tmp_path: Path) -> None:
    s3, _, s3control = clients_for(seeded_server)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_ON)
    # A public-read ACL on the private backups bucket is neutralised by the account's IgnorePublicAcls.
    s3.put_bucket_acl(Bucket="amply-backups-prod", ACL="public-read")
    code, report = _audit(seeded_server, _specs(tmp_path, ACCOUNT_SPEC), tmp_path)
    statuses = {(r["scope"], r["bucket"], r["control"]): r["status"] for r in report["results"]}
    assert statuses["account", None, "public_access_block"] == "pass"
    assert statuses["bucket", "amply-backups-prod", "public_access"] == "pass"
    # ... and the account block's RestrictPublicBuckets now stops the public-read bucket's policy
    assert statuses["bucket", "amply-public-data", "public_access"] == "drift"
    assert code == 1


def test_an_exact_account_entry_overrides_the_baseline(seeded_server: str, tmp_path: Path) -> None:
    spec = ACCOUNT_SPEC + f"""\
  - id: "{ACCOUNT}"
    public_access_block: {{block_public_policy: false}}
"""
    code, report = _audit(seeded_server, _specs(tmp_path, spec), tmp_path)
    (result,) = [r for r in report["results"] if r["scope"] == "account"]
    assert result["status"] == "pass" and result["expected"] == {"block_public_policy": False}
    assert code == 0


OWNERSHIP_SPEC = """\
version: 1
buckets:
  - match: "amply-*-prod"
    ownership: BucketOwnerEnforced
    object_acls: ignored
"""


def test_ownership_and_object_acls_end_to_end(seeded_server: str, tmp_path: Path) -> None:
    s3, _, _ = clients_for(seeded_server)
    for bucket in ("amply-storage-prod", "amply-frontend-prod", "amply-widgets-prod", "amply-backups-prod"):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    code, report = _audit(seeded_server, _specs(tmp_path, OWNERSHIP_SPEC), tmp_path,
                          "--controls", "ownership", "--controls", "object_acls")
    by = {(r["bucket"], r["control"]): r for r in report["results"]}
    assert by["amply-storage-prod", "ownership"]["status"] == "pass"
    # storage-prod also has IgnorePublicAcls: either reason is named
    assert by["amply-storage-prod", "object_acls"]["status"] == "pass"
    assert by["amply-frontend-prod", "object_acls"]["message"].endswith(
        "(object ownership is BucketOwnerEnforced (ACLs are disabled))")
    assert sorted(k for k, r in by.items() if r["status"] != "pass") == []
    s3.delete_bucket_ownership_controls(Bucket="amply-widgets-prod")
    code, report = _audit(seeded_server, _specs(tmp_path, OWNERSHIP_SPEC), tmp_path,
                          "--controls", "ownership", "--controls", "object_acls")
    failing = sorted((r["bucket"], r["control"], r["actual"]) for r in report["results"]
                     if r["status"] != "pass")
    assert failing == [("amply-widgets-prod", "object_acls", "effective"),
                       ("amply-widgets-prod", "ownership", "ObjectWriter")]
    assert code == 1


POLICY_SPEC = """\
version: 1
buckets:
  - match: "amply-storage-*"
    min_tls_version: "1.2"
    cross_account: {allowed_accounts: ["444455556666"]}
"""


def _deny(bucket: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], "Condition": condition}


def test_min_tls_version_and_cross_account_end_to_end(seeded_server: str, tmp_path: Path) -> None:
    s3, _, _ = clients_for(seeded_server)
    bucket = "amply-storage-prod"
    statements = [
        _deny(bucket, {"Bool": {"aws:SecureTransport": "false"}}),
        _deny(bucket, {"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
    ]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    specs = _specs(tmp_path, POLICY_SPEC)
    code, report = _audit(seeded_server, specs, tmp_path, "--bucket", bucket)
    by = {r["control"]: r for r in report["results"]}
    assert (by["min_tls_version"]["status"], by["cross_account"]["status"], by["tls_only"]["status"]) == (
        "pass", "pass", "pass")
    assert code == 0
    # Another account appears: cross_account drifts naming it; the TLS controls still hold.
    statements.append({"Sid": "Stranger", "Effect": "Allow",
                       "Principal": {"AWS": "arn:aws:iam::777788889999:root"},
                       "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    statements[1] = _deny(bucket, {"NumericLessThan": {"s3:TlsVersion": "1.1"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    code, report = _audit(seeded_server, specs, tmp_path, "--bucket", bucket)
    by = {r["control"]: r for r in report["results"]}
    assert by["cross_account"]["status"] == "drift"
    assert "777788889999" in by["cross_account"]["message"] and "444455556666" not in by["cross_account"]["message"]
    assert by["cross_account"]["differences"][0]["path"].startswith("cross_account[")
    assert by["min_tls_version"]["status"] == "drift"
    assert "jq" in by["min_tls_version"]["remediation"]  # merged into the live policy, not replacing it
    assert by["tls_only"]["status"] == "pass"
    assert code == 1
