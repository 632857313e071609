"""Two nights of a cron job, scripted on moto: drift fixed, new drift, a waiver added, one expired.

Night 1 (2026-11-24): storage versioning suspended, frontend CORS widened, backups TLS policy
deleted but waived until 2026-11-24. Between the nights: versioning fixed, public-data
versioning suspended, a waiver added for the CORS drift. Night 2 (2026-11-25, --history):
the fix is resolved, the CORS drift persists but is waived, the TLS drift persists and fails
again because its waiver expired, the public-data drift is new.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from moto import mock_aws

from auditor.cli import main
from auditor.demo import RequestMetricsStore
from auditor.report.json_report import validate_report
from tests.conftest import SPECS, clients_for, seed_account, setup_clients

WAIVER_TLS = """\
  - bucket: amply-backups-prod
    control: tls_only
    reason: backup agent v1 speaks plain HTTP until the upgrade
    expires: 2026-11-24
    owner: platform-team
"""
WAIVER_CORS = """\
  - bucket: "amply-front*"
    control: cors
    reason: marketing preview site needs any origin for one sprint
    expires: 2027-01-31
    owner: web-team
    ticket: WEB-1234
"""


@pytest.fixture
def account() -> Iterator[tuple[Any, Any]]:
    with mock_aws(), RequestMetricsStore().installed():
        s3, kms, _ = clients_for()
        seed_account(setup_clients())
        yield s3, kms


def _night(specs: Path, history: Path, out: Path, now: str, *extra: str) -> tuple[int, dict[str, Any], Path]:
    out.mkdir(exist_ok=True)
    args = ["audit", "--specs", str(specs), "--history", str(history), "--now", now,
            "--json", str(out / "r.json"), "--markdown", str(out / "r.md"),
            "--sarif", str(out / "r.sarif"), "--junit", str(out / "r.xml"), *extra]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    text = (out / "r.json").read_text()
    validate_report(text)
    return result.exit_code, json.loads(text), out


def _by_key(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["bucket"], r["control"]): r for r in report["results"]}


def test_two_nights(account: tuple[Any, Any], tmp_path: Path) -> None:
    s3, _ = account
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    waivers = specs / "waivers.yaml"
    waivers.write_text("version: 1\nbuckets: []\nwaivers:\n" + WAIVER_TLS)
    history = tmp_path / "history"

    s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_cors(Bucket="amply-frontend-prod", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 3600}]})
    s3.delete_bucket_policy(Bucket="amply-backups-prod")
    code1, night1, _ = _night(specs, history, tmp_path / "n1", "2026-11-24T23:00:00Z")
    r1 = _by_key(night1)
    assert code1 == 1
    assert r1["amply-storage-prod", "versioning"]["status"] == "drift"
    assert r1["amply-frontend-prod", "cors"]["status"] == "drift"
    assert r1["amply-backups-prod", "tls_only"]["status"] == "waived"
    assert night1["summary"]["waived"] == 1
    assert all("change" not in r for r in night1["results"])  # no baseline yet

    # Between the nights.
    s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket="amply-public-data", VersioningConfiguration={"Status": "Suspended"})
    waivers.write_text("version: 1\nbuckets: []\nwaivers:\n" + WAIVER_TLS + WAIVER_CORS)

    code2, night2, out2 = _night(specs, history, tmp_path / "n2", "2026-11-25T23:00:00Z")
    r2 = _by_key(night2)
    fixed = r2["amply-storage-prod", "versioning"]
    assert (fixed["status"], fixed["change"]) == ("pass", "resolved")
    cors = r2["amply-frontend-prod", "cors"]
    assert (cors["status"], cors["change"], cors["first_seen"]) == ("waived", "persisting", "2026-11-24T23:00:00Z")
    assert cors["waiver"]["ticket"] == "WEB-1234"
    tls = r2["amply-backups-prod", "tls_only"]
    assert (tls["status"], tls["change"], tls["first_seen"]) == ("drift", "persisting", "2026-11-24T23:00:00Z")
    assert "waiver expired on 2026-11-24" in tls["message"]
    new = r2["amply-public-data", "versioning"]
    assert (new["status"], new["change"], new["first_seen"]) == ("drift", "new", "2026-11-25T23:00:00Z")
    changed = {k for k, r in r2.items() if "change" in r}
    assert changed == {("amply-storage-prod", "versioning"), ("amply-frontend-prod", "cors"),
                       ("amply-backups-prod", "tls_only"), ("amply-public-data", "versioning")}
    assert night2["summary"] | {} == {**night2["summary"], "drift": 2, "waived": 1, "error": 0}
    assert code2 == 1

    _check_markdown(out2 / "r.md")
    _check_sarif(out2 / "r.sarif")
    _check_junit(out2 / "r.xml")
    assert sorted(p.name for p in history.iterdir()) == [
        "drift-report-20261124T230000Z.json", "drift-report-20261125T230000Z.json", "latest.json"]

    # --fail-on: the TLS drift is high, the versioning drift medium, nothing critical.
    for level, expected in (("critical", 0), ("high", 1), ("medium", 1), ("low", 1)):
        code, _, _ = _night(specs, tmp_path / f"h-{level}", tmp_path / f"f-{level}",
                            "2026-11-25T23:00:00Z", "--baseline", str(tmp_path / "n1" / "r.json"),
                            "--fail-on", level)
        assert code == expected, level


def _check_markdown(path: Path) -> None:
    text = path.read_text()
    changes = text.index("## Changes since the baseline")
    assert changes < text.index("## Summary")  # the report opens with the changes
    section = text[changes:text.index("## Summary")]
    for heading in ("### New", "### Resolved", "### Persisting"):
        assert heading in section
    assert "1 new, 1 resolved, 2 persisting" in section
    assert "## Waived" in text and "WEB-1234" in text


def _check_sarif(path: Path) -> None:
    run = json.loads(path.read_text())["runs"][0]
    results = {(r["properties"]["bucket"], r["properties"]["control"]): r for r in run["results"]}
    assert set(results) == {("amply-frontend-prod", "cors"), ("amply-backups-prod", "tls_only"),
                            ("amply-public-data", "versioning")}
    assert "suppressions" in results["amply-frontend-prod", "cors"]
    assert "suppressions" not in results["amply-public-data", "versioning"]
    assert results["amply-public-data", "versioning"]["properties"]["change"] == "new"


def _check_junit(path: Path) -> None:
    root = ET.parse(path).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["amply-public-data versioning"].find("failure") is not None
    assert cases["amply-backups-prod tls_only"].find("failure") is not None
    assert cases["amply-frontend-prod cors"].find("skipped") is not None
    assert cases["amply-storage-prod versioning"].find("failure") is None
    assert sum(1 for c in cases.values() if c.find("failure") is not None) == 2
