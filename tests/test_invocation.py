"""Honest invocation (issue 10), the CLI against a moto server over HTTP: a bad invocation is
exit 2 with a hint and writes nothing; missing credentials and a dead endpoint are one line
each and exit 3; the verdict is the last line; report targets are never replaced by files."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from auditor.cli import main
from tests.conftest import REGION, SPECS, clients_for
from tests.faultproxy import Fault, FaultProxy


def cli(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def audit(endpoint: str, out: Path, *extra: str, env: dict[str, str | None] | None = None) -> Result:
    return cli("audit", "--specs", str(SPECS), "--endpoint-url", endpoint, "--out", str(out), *extra, env=env)


def first_line(result: Result) -> str:
    return result.stderr.splitlines()[0]


def report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "drift-report.json").read_text())
    return data


def unjudged(doc: dict[str, Any]) -> str:
    """`22 controls on 5 buckets and 1 account check and 1 role check`, counted from a report."""
    errors = [r for r in doc["results"] if r["status"] == "error"]
    on_buckets = [r for r in errors if r["bucket"] is not None]
    parts = [f"{len(on_buckets)} controls on {len({r['bucket'] for r in on_buckets})} buckets"]
    for scope, noun in (("account", "account check"), ("principal", "role check")):
        n = sum(r["scope"] == scope for r in errors)
        if n:
            parts.append(f"{n} {noun}" + ("s" if n > 1 else ""))
    return " and ".join(parts)


# --------------------------------------------------------------------------- --bucket


def test_a_bucket_that_matches_nothing_is_exit_2_and_keeps_the_last_report(server: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "drift-report.json").write_text("the last real report")
    result = audit(server, out, "--bucket", "acme-nosuch")
    assert result.exit_code == 2
    assert first_line(result) == ("s3audit: no bucket matches --bucket acme-nosuch (the audited accounts "
                                  "and the specs have 5 bucket(s)); nothing audited")
    assert sorted(p.name for p in out.iterdir()) == ["drift-report.json"]
    assert (out / "drift-report.json").read_text() == "the last real report"


def test_a_typo_gets_the_nearest_bucket_names(server: str, tmp_path: Path) -> None:
    result = audit(server, tmp_path / "out", "--bucket", "amply-storage-prd")
    assert result.exit_code == 2
    assert first_line(result) == ("s3audit: no bucket matches --bucket amply-storage-prd (did you mean "
                                  "amply-storage-prod?); nothing audited")
    assert not (tmp_path / "out").exists()


def test_bucket_globs_select_buckets_and_a_glob_matching_nothing_is_exit_2(seeded_server: str, tmp_path: Path) -> None:
    result = audit(seeded_server, tmp_path / "out", "--bucket", "amply-*-prod", "--bucket", "amply-public-data")
    assert result.exit_code == 0, result.output
    assert {r["bucket"] for r in report(tmp_path / "out")["results"]} == {
        "amply-backups-prod", "amply-frontend-prod", "amply-public-data", "amply-storage-prod", "amply-widgets-prod"}
    only = audit(seeded_server, tmp_path / "out2", "--bucket", "amply-[fw]*")
    assert {r["bucket"] for r in report(tmp_path / "out2")["results"]} == {"amply-frontend-prod", "amply-widgets-prod"}
    assert only.exit_code == 0
    none = audit(seeded_server, tmp_path / "out3", "--bucket", "amply-*", "--bucket", "acme-*")
    assert none.exit_code == 2
    assert first_line(none).startswith("s3audit: no bucket matches --bucket acme-*")
    assert not (tmp_path / "out3").exists()


# --------------------------------------------------------------------------- bad invocations


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "aws-config"
    config.write_text("[profile dev]\nregion = eu-central-1\n[profile prod-ro]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return config


BAD_INVOCATIONS = {
    "unknown profile": (["--profile", "prod-readonly"],
                        "s3audit: Invalid value for '--profile': prod-readonly: no such profile; the profiles "
                        "are: dev, prod-ro; did you mean prod-ro?"),
    "endpoint without a scheme": (["--endpoint-url", "127.0.0.1:5055"],
                                  "s3audit: Invalid value for '--endpoint-url': 127.0.0.1:5055: an endpoint "
                                  "needs a scheme, e.g. http://127.0.0.1:5000"),
    "host:port without a scheme": (["--endpoint-url", "localhost:5055"],
                                   "s3audit: Invalid value for '--endpoint-url': localhost:5055: an endpoint "
                                   "needs a scheme, e.g. http://127.0.0.1:5000"),
    "unparseable endpoint": (["--endpoint-url", "http://[::1:5000"],
                             "s3audit: Invalid value for '--endpoint-url': http://[::1:5000: not a URL "
                             "(Invalid IPv6 URL); e.g. http://127.0.0.1:5000"),
    "endpoint port out of range": (["--endpoint-url", "http://127.0.0.1:99999"],
                                   "s3audit: Invalid value for '--endpoint-url': http://127.0.0.1:99999: not a "
                                   "URL (Port out of range 0-65535); e.g. http://127.0.0.1:5000"),
    "region not in the partition": (["--region", "eu-west-9"],
                                    "s3audit: Invalid value for '--region': eu-west-9: not an AWS region; did "
                                    "you mean eu-west-3, eu-west-2, eu-west-1?"),
    "unknown --fail-on": (["--fail-on", "extreme"],
                          "s3audit: Invalid value for '--fail-on': 'extreme' is not one of 'low', 'medium', "
                          "'high', 'critical'."),
}


@pytest.mark.parametrize("name", list(BAD_INVOCATIONS))
def test_a_bad_invocation_is_exit_2_with_a_hint_and_writes_nothing(
    tmp_path: Path, profiles: Path, name: str
) -> None:
    args, line = BAD_INVOCATIONS[name]
    out = tmp_path / "out"
    # Refused before anything is read: an endpoint that would answer nothing is never asked.
    result = cli("audit", "--specs", str(SPECS), "--out", str(out),
                 *(["--endpoint-url", "http://127.0.0.1:9"] if "--endpoint-url" not in args else []), *args)
    assert result.exit_code == 2
    assert first_line(result) == line
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(("variable", "value", "line"), [
    ("AWS_PROFILE", "prod-readonly", "s3audit: AWS_PROFILE=prod-readonly: no such profile; the profiles are: "
                                     "dev, prod-ro; did you mean prod-ro?"),
    ("AWS_ENDPOINT_URL", "127.0.0.1:5055", "s3audit: AWS_ENDPOINT_URL=127.0.0.1:5055: an endpoint needs a "
                                           "scheme, e.g. http://127.0.0.1:5000"),
    ("AWS_REGION", "eu-west-9", "s3audit: AWS_REGION=eu-west-9: not an AWS region; did you mean eu-west-3, "
                                "eu-west-2, eu-west-1?"),
])
def test_the_same_checks_hold_for_the_aws_variables(tmp_path: Path, profiles: Path, variable: str, value: str,
                                                    line: str) -> None:
    out = tmp_path / "out"
    result = cli("audit", "--specs", str(SPECS), "--out", str(out), env={variable: value})
    assert result.exit_code == 2
    assert first_line(result) == line
    assert not out.exists()


def test_fail_on_takes_any_case(seeded_server: str, tmp_path: Path) -> None:
    s3, _, _ = clients_for(seeded_server)
    s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Suspended"})
    assert audit(seeded_server, tmp_path / "b", "--fail-on", "Medium").exit_code == 1  # versioning is medium


def test_a_report_target_that_is_a_directory_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "out" / "drift-report.json").mkdir(parents=True)
    result = audit("http://127.0.0.1:9", tmp_path / "out")
    assert result.exit_code == 2
    assert first_line(result) == f"s3audit: {tmp_path / 'out' / 'drift-report.json'} is a directory; nothing audited"
    assert not (tmp_path / "out" / "drift-report.md").exists()
    given = cli("audit", "--specs", str(SPECS), "--endpoint-url", "http://127.0.0.1:9", "--json", str(tmp_path))
    assert given.exit_code == 2
    assert "is a directory" in first_line(given)


# --------------------------------------------------------------------------- one line per cause


def _error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("  error")]


def test_no_credentials_is_one_line_exit_3_and_the_reports_say_so(seeded_server: str, tmp_path: Path) -> None:
    env: dict[str, str | None] = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None,
                                  "AWS_SESSION_TOKEN": None, "AWS_EC2_METADATA_DISABLED": "true"}
    result = audit(seeded_server, tmp_path / "out", env=env)
    assert result.exit_code == 3
    doc = report(tmp_path / "out")
    assert _error_lines(result) == [
        "  error  no AWS credentials found (default credential chain): Unable to locate credentials "
        f"(NoCredentialsError); {unjudged(doc)} not evaluated; set --profile, "
        "AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"]
    assert result.stderr.splitlines()[-1] == (f"s3audit: 5 bucket(s), 0 pass, 0 drift, {len(doc['results'])} "
                                              "error: INCOMPLETE (not everything could be read)")
    results = doc["results"]
    assert {(r["status"], r["error"]["code"], r["error"]["credentials"]) for r in results} == {
        ("error", "NoCredentialsError", "default credential chain")}
    quiet = audit(seeded_server, tmp_path / "quiet", "--quiet", env=env)
    assert quiet.exit_code == 3
    assert quiet.stderr.splitlines() == _error_lines(result)  # --quiet still prints the errors, only them


def test_an_endpoint_that_does_not_answer_is_one_line_and_exit_3(tmp_path: Path) -> None:
    result = audit("http://127.0.0.1:9", tmp_path / "out")
    assert result.exit_code == 3
    assert _error_lines(result) == [
        '  error  the endpoint does not answer: Could not connect to the endpoint URL: "http://127.0.0.1:9" '
        f"(EndpointConnectionError); {unjudged(report(tmp_path / 'out'))} not evaluated; check "
        "--endpoint-url / AWS_ENDPOINT_URL, the network and any proxy"]
    assert {r["error"]["code"] for r in report(tmp_path / "out")["results"]} == {"EndpointConnectionError"}


def test_the_same_access_denied_on_every_bucket_is_one_line(seeded_server: str, tmp_path: Path) -> None:
    proxy = FaultProxy(int(seeded_server.rsplit(":", 1)[1])).start()
    try:
        proxy.faults.append(Fault("GET", "/amply-", "policy", 403, "AccessDenied"))
        result = audit(proxy.url, tmp_path / "out")
    finally:
        proxy.stop()
    assert result.exit_code == 3
    assert _error_lines(result) == ["  error  GetBucketPolicy AccessDenied: injected AccessDenied; "
                                    f"{unjudged(report(tmp_path / 'out'))} not evaluated"]


# --------------------------------------------------------------------------- the summary


def test_the_verdict_is_last_and_many_findings_roll_up_per_rule(server: str, tmp_path: Path) -> None:
    s3, _, _ = clients_for(server)
    spec = tmp_path / "many.yaml"
    spec.write_text("version: 1\nbuckets:\n  - match: 'acme-*'\n    versioning: Enabled\n    tls_only: true\n")
    for i in range(30):
        s3.create_bucket(Bucket=f"acme-{i:03}", CreateBucketConfiguration={"LocationConstraint": REGION})
    result = cli("audit", "--specs", str(spec), "--endpoint-url", server, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "s3audit: 30 bucket(s), 0 pass, 60 drift, 0 error: NOT compliant"
    assert lines[0] == "  60 findings, by rule (more than a screenful; each one is in the reports):"
    assert lines[1] == "  drift  high     S3-TLS-001 tls_only: 30 buckets, e.g. acme-000, acme-001, acme-002, ..."
    assert lines[2] == "  drift  medium   S3-VER-001 versioning: 30 buckets, e.g. acme-000, acme-001, acme-002, ..."


# --------------------------------------------------------------------------- report targets


def test_device_nodes_and_fifos_are_written_to_not_replaced(seeded_server: str, tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = cli("audit", "--specs", str(SPECS), "--endpoint-url", seeded_server,
                 "--json", str(fifo), "--markdown", os.devnull)
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert json.loads(received[0])["summary"]["compliant"] is True
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.fifo"]


def test_a_symlink_to_a_report_keeps_the_link(seeded_server: str, tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    assert cli("audit", "--specs", str(SPECS), "--endpoint-url", seeded_server, "--json", str(link)).exit_code == 0
    assert link.is_symlink() and json.loads(real.read_text())["schema_version"] == 1


# --------------------------------------------------------------------------- missing buckets


def _foreign_bucket(server: str, name: str) -> None:
    """A bucket of another account (moto keys accounts by the credentials of assumed roles)."""
    import boto3

    creds = boto3.client("sts", endpoint_url=server, region_name=REGION).assume_role(
        RoleArn="arn:aws:iam::111111111111:role/owner", RoleSessionName="owner")["Credentials"]
    boto3.client("s3", endpoint_url=server, region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                 aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
                 ).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


def _spec(tmp_path: Path, name: str, region: str = REGION) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"version: 1\nbuckets:\n  - name: {name}\n    region: {region}\n    versioning: Enabled\n")
    return spec


def test_a_bucket_another_account_owns_is_not_called_missing(server: str, tmp_path: Path) -> None:
    _foreign_bucket(server, "amply-logs-prod")
    result = cli("audit", "--specs", str(_spec(tmp_path, "amply-logs-prod")), "--endpoint-url", server,
                 "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    (exists,) = report(tmp_path / "out")["results"]
    assert exists["message"].startswith("Bucket amply-logs-prod exists, but not in the audited account(s)")
    assert "create-bucket" not in exists["remediation"] and "squatting" in exists["remediation"]


def test_head_bucket_403_is_exists_elsewhere_and_404_is_missing_with_its_region(server: str, tmp_path: Path) -> None:
    proxy = FaultProxy(int(server.rsplit(":", 1)[1])).start()
    try:
        proxy.faults.append(Fault("HEAD", "/amply-taken", None, 403, "Forbidden"))
        taken = cli("audit", "--specs", str(_spec(tmp_path, "amply-taken")), "--endpoint-url", proxy.url,
                    "--out", str(tmp_path / "taken"))
        missing = cli("audit", "--specs", str(_spec(tmp_path, "amply-new", "us-west-2")), "--endpoint-url",
                      proxy.url, "--out", str(tmp_path / "missing"))
    finally:
        proxy.stop()
    assert taken.exit_code == missing.exit_code == 1
    (owned,) = report(tmp_path / "taken")["results"]
    assert "exists, but not in the audited account(s): another account owns the name" in owned["message"]
    (gone,) = report(tmp_path / "missing")["results"]
    assert gone["message"] == "Bucket amply-new does not exist; a spec requires it"
    # runs as printed: the region twice, as the create-bucket API and the CLI each need it
    assert gone["remediation"] == ("aws s3api create-bucket --bucket amply-new --create-bucket-configuration "
                                   "LocationConstraint=us-west-2 --region us-west-2")
    assert "  drift  high     amply-new exists: Bucket amply-new does not exist; a spec requires it" in (
        missing.stderr.splitlines())


# --------------------------------------------------------------------------- KMS names, init, demo


def test_kms_drift_names_each_key_once_with_its_alias(seeded_server: str, tmp_path: Path) -> None:
    s3, kms, _ = clients_for(seeded_server)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/legacy-key", TargetKeyId=key["KeyId"])
    s3.put_bucket_encryption(Bucket="amply-storage-prod", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    result = audit(seeded_server, tmp_path / "out")
    assert result.exit_code == 1
    (drift,) = [r for r in report(tmp_path / "out")["results"] if r["status"] == "drift"]
    assert drift["message"].startswith(f"Bucket encrypts with KMS key {key['Arn']} (alias/legacy-key); the spec "
                                       "requires alias/amply-s3-key (arn:aws:kms:")
    assert drift["message"].count(key["Arn"]) == 1 and drift["message"].count("alias/amply-s3-key") == 1


def test_init_writes_the_alias_of_a_key_rather_than_its_arn(server: str, tmp_path: Path) -> None:
    s3, kms, _ = clients_for(server)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/amply-s3-key", TargetKeyId=key["KeyId"])
    s3.create_bucket(Bucket="amply-keyed", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(Bucket="amply-keyed", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    result = cli("init", "--endpoint-url", server, "--bucket", "amply-k*", "--out", str(tmp_path / "specs"))
    assert result.exit_code == 0, result.output
    assert "kms_key: alias/amply-s3-key" in (tmp_path / "specs" / "amply-keyed.yaml").read_text()
    again = cli("audit", "--specs", str(tmp_path / "specs"), "--endpoint-url", server, "--out", str(tmp_path / "o"))
    assert again.exit_code == 0, again.output  # the alias resolves to the key the bucket uses


def test_demo_ships_the_seed_specs_for_any_directory() -> None:
    from auditor.demo import packaged_specs

    shipped = packaged_specs()
    assert sorted(p.name for p in shipped.glob("*.yaml")) == sorted(p.name for p in SPECS.glob("*.yaml"))
    assert all((shipped / p.name).read_text() == p.read_text() for p in SPECS.glob("*.yaml"))


def test_demo_runs_from_any_directory_and_with_buckets_in_any_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.demo

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "us.yaml").write_text(
        "version: 1\nbuckets:\n  - name: acme-us-logs\n    region: us-east-1\n    versioning: Enabled\n"
        "    encryption: {algorithm: 'aws:kms', kms_key: alias/acme-us}\n"
        "  - name: acme-eu-data\n    region: eu-west-1\n    versioning: Enabled\n")
    monkeypatch.setattr(auditor.demo, "packaged_specs", lambda: shipped)  # (the seed's five, really)
    monkeypatch.chdir(tmp_path)  # no specs/ here: the packaged specs are used
    result = cli("demo", "--out", "us")
    assert result.exit_code == 0, result.output
    results = report(tmp_path / "us")["results"]
    assert {(r["bucket"], r["status"]) for r in results if r["bucket"] != "amply-scratch-tmp"} == {
        ("acme-us-logs", "pass"), ("acme-eu-data", "pass")}
