"""Several accounts in one run (assumed roles on a moto server), and --shard slices + merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from click.testing import CliRunner

from auditor.cli import main
from tests.conftest import REGION, SPECS, clients_for, seed_account, setup_clients
from tests.faultproxy import Fault, FaultProxy
from tests.test_cli import audit, not_passing

TEAM_A, TEAM_B, DENIED = "123456789012", "111111111111", "222222222222"


def _role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/s3audit"


def _as(account: str, endpoint: str) -> Any:
    creds = boto3.client("sts", region_name=REGION, endpoint_url=endpoint).assume_role(
        RoleArn=_role(account), RoleSessionName="setup")["Credentials"]
    return boto3.client("s3", region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


def test_each_account_is_audited_and_a_failed_role_is_an_error_for_that_account(
    server: str, tmp_path: Path
) -> None:
    s3, kms, _ = clients_for(server)
    seed_account(setup_clients(server))  # team A holds the five seed buckets ...
    s3.delete_bucket(Bucket="amply-widgets-prod")  # ... but the widgets bucket lives in team B
    team_b = _as(TEAM_B, server)
    for name in ("amply-widgets-prod", "team-b-scratch"):
        team_b.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    team_b.put_bucket_cors(Bucket="amply-widgets-prod", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 86400}]})

    proxy = FaultProxy(int(server.rsplit(":", 1)[1])).start()
    proxy.faults.append(Fault("POST", "/", None, 403, "AccessDenied",
                              body_contains=quote(_role(DENIED), safe="").encode()))
    try:
        code, report, _ = audit(proxy.url, tmp_path, "--role-arn", _role(TEAM_A), "--role-arn", _role(TEAM_B),
                                "--role-arn", _role(DENIED))
    finally:
        proxy.stop()
    accounts = {(r["bucket"], r["control"]): r.get("account") for r in report["results"]}
    assert accounts["amply-storage-prod", "versioning"] == TEAM_A
    assert accounts["amply-widgets-prod", "cors"] == TEAM_B
    assert accounts["team-b-scratch", "managed"] == TEAM_B
    assert not_passing(report) == [("<account>", "managed", "error"), ("team-b-scratch", "managed", "drift")]
    denied = next(r for r in report["results"] if r["scope"] == "account")
    assert denied["bucket"] is None and denied["error"]["code"] == "AccessDenied"
    assert denied["account"] == DENIED and "AssumeRole failed (AccessDenied)" in denied["message"]
    assert sorted(report["run"]["accounts"]) == sorted([TEAM_A, TEAM_B, DENIED])
    assert code == 3


def test_shard_slices_merged_equal_one_unsharded_run(seeded_server: str, tmp_path: Path) -> None:
    s3, _, _ = clients_for(seeded_server)
    s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Suspended"})
    for i in range(6):
        s3.create_bucket(Bucket=f"extra-{i}", CreateBucketConfiguration={"LocationConstraint": REGION})
    now = ["--now", "2026-11-25T02:00:00Z"]
    _, whole, _ = audit(seeded_server, tmp_path / "whole", *now)
    parts = []
    for k in (1, 2, 3):
        code, part, _ = audit(seeded_server, tmp_path / f"s{k}", "--shard", f"{k}/3", *now)
        assert part["results"], f"shard {k} is empty: the hash spreads nothing"
        parts.append(str(tmp_path / f"s{k}" / "out" / "drift-report.json"))
    assert sum(len(json.loads(Path(p).read_text())["results"]) for p in parts) == len(whole["results"])
    result = CliRunner().invoke(main, ["merge", *parts, "--json", str(tmp_path / "merged.json")])
    assert result.exit_code == 1  # drift, as the unsharded run
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert merged["results"] == whole["results"]
    assert merged["summary"] == whole["summary"]


def test_shard_index_comes_from_the_kubernetes_job_index(seeded_server: str, tmp_path: Path,
                                                         monkeypatch: Any) -> None:
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")
    _, via_env, _ = audit(seeded_server, tmp_path / "env", "--shard", "3")
    _, explicit, _ = audit(seeded_server, tmp_path / "explicit", "--shard", "2/3")
    assert [r["bucket"] for r in via_env["results"]] == [r["bucket"] for r in explicit["results"]]


def test_a_bad_shard_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--shard", "4/3"])
    assert result.exit_code == 2
    assert "--shard" in result.output


def test_organization_discovery_audits_every_active_account(server: str, tmp_path: Path) -> None:
    org = boto3.client("organizations", region_name="us-east-1", endpoint_url=server)
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="member", Email="member@example.org")["CreateAccountStatus"]["AccountId"]
    _as(member, server).create_bucket(Bucket="member-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    code, report, _ = audit(server, tmp_path, "--org-role", "s3audit")
    where = {r["bucket"]: r.get("account") for r in report["results"] if r["control"] in ("managed", "exists")}
    assert where["member-bucket"] == member  # found in the member account through the role
    assert where["amply-storage-prod"] == TEAM_A  # spec'd buckets missing in every account: one drift each
    assert sorted(report["run"]["accounts"]) == sorted([TEAM_A, member])
    assert code == 1
