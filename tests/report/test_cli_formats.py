"""The report formats through the CLI, against a moto server: --out writes the HTML too, each
format option writes its file, --sarif-root makes SARIF URIs relative, merge takes them too."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from auditor.cli import main
from tests.conftest import SPECS, clients_for

FORMATS = ("html", "csv", "ocsf", "asff", "sarif", "junit")


def _drift(server: str) -> None:
    s3, _, _ = clients_for(server)
    s3.put_bucket_versioning(Bucket="amply-storage-prod", VersioningConfiguration={"Status": "Suspended"})


def _audit(server: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["audit", "--specs", str(SPECS), "--endpoint-url", server, *args],
                              catch_exceptions=False)


def test_out_writes_json_markdown_and_html(seeded_server: str, tmp_path: Path) -> None:
    _drift(seeded_server)
    result = _audit(seeded_server, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "drift-report.html", "drift-report.json", "drift-report.md"]
    page = (tmp_path / "out" / "drift-report.html").read_text()
    summary = json.loads((tmp_path / "out" / "drift-report.json").read_text())["summary"]
    assert f'id="count-drift">{summary["drift"]}<' in page
    assert "report: " + str(tmp_path / "out" / "drift-report.html") in result.output


def test_every_format_option_writes_its_file(seeded_server: str, tmp_path: Path) -> None:
    _drift(seeded_server)
    paths = {name: tmp_path / f"r.{name}" for name in FORMATS}
    options = [arg for name, path in paths.items() for arg in (f"--{name}", str(path))]
    result = _audit(seeded_server, "--json", str(tmp_path / "r.json"), *options,
                    "--sarif-root", str(SPECS.parent))
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "reports").exists()
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text(), newline="")))
    report = json.loads((tmp_path / "r.json").read_text())
    assert len(rows) == len(report["results"])
    drifts = [r for r in report["results"] if r["status"] == "drift"]
    assert [f["finding_info"]["uid"] for f in json.loads(paths["ocsf"].read_text())] == [
        f"s3audit/{r['account']}/{r['bucket']}/{r['control']}" for r in drifts]
    assert len(json.loads(paths["asff"].read_text())) == len(drifts)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(paths["sarif"].read_text())["runs"][0]["results"] for loc in r["locations"]}
    assert uris and all(u.startswith("specs/") for u in uris)
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")


def test_sarif_root_elsewhere_makes_uris_relative_to_it(seeded_server: str, tmp_path: Path) -> None:
    _drift(seeded_server)
    _audit(seeded_server, "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif"),
           "--sarif-root", str(SPECS.parent.parent))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"] for loc in r["locations"]}
    assert uris == {f"{SPECS.parent.name}/specs/amply-storage-prod.yaml"}


def test_merge_writes_the_formats_too(seeded_server: str, tmp_path: Path) -> None:
    _drift(seeded_server)
    for k in (1, 2):
        _audit(seeded_server, "--shard", f"{k}/2", "--json", str(tmp_path / f"s{k}.json"))
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "s1.json"), str(tmp_path / "s2.json"),
                                       "--json", str(tmp_path / "m.json"), "--html", str(tmp_path / "m.html"),
                                       "--csv", str(tmp_path / "m.csv")])
    assert result.exit_code == 1, result.output
    merged = json.loads((tmp_path / "m.json").read_text())
    assert f'id="count-pass">{merged["summary"]["pass"]}<' in (tmp_path / "m.html").read_text()
    assert len((tmp_path / "m.csv").read_text().splitlines()) == len(merged["results"]) + 1
