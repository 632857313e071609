"""Collect once, judge many: --save-state, then --from-state with no AWS access at all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from auditor.cli import main
from tests.conftest import SPECS

NOWHERE = "http://127.0.0.1:9"  # nothing listens: any AWS call would fail


def _audit(tmp_path: Path, name: str, *args: str, specs: Path = SPECS) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["audit", "--specs", str(specs), "--out", str(out), "--quiet", *args],
                                catch_exceptions=False)
    path = out / "drift-report.json"
    return result.exit_code, json.loads(path.read_text()) if path.exists() else {}, result.output


def test_a_saved_state_reproduces_the_report_exactly_without_aws(seeded_server: str, tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    code, live, _ = _audit(tmp_path, "live", "--endpoint-url", seeded_server, "--save-state", str(state))
    assert code == 0 and live["results"], [r["message"] for r in live["results"] if r["status"] != "pass"]
    replayed_code, replayed, _ = _audit(tmp_path, "replay", "--endpoint-url", NOWHERE,
                                        "--from-state", str(state))
    assert replayed_code == code, [r["message"] for r in replayed["results"] if r["status"] != "pass"][:3]
    assert replayed == live
    lines = [json.loads(line) for line in state.read_text().splitlines()]
    assert lines[0]["format"] == "s3audit-state" and lines[-1]["kind"] == "run"
    assert sum(line["kind"] == "bucket" for line in lines) == live["summary"]["buckets"]


def test_a_changed_spec_is_judged_against_the_saved_facets(seeded_server: str, tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    _audit(tmp_path, "live", "--endpoint-url", seeded_server, "--save-state", str(state))
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    storage = specs / "amply-storage-prod.yaml"
    storage.write_text(storage.read_text().replace("versioning: Enabled", "versioning: Suspended")
                       .replace("    tls_only: true", "    tls_only: true\n    website: false"))
    code, report, _ = _audit(tmp_path, "again", "--endpoint-url", NOWHERE, "--from-state", str(state),
                             specs=specs)
    failing = {(r["bucket"], r["control"]): r for r in report["results"] if r["status"] != "pass"}
    assert failing[("amply-storage-prod", "versioning")]["status"] == "drift"
    # website was never read for this bucket: an error naming that, never a pass
    website = failing[("amply-storage-prod", "website")]
    assert website["status"] == "error" and website["error"]["code"] == "NotSaved"
    assert code == 3


def test_a_state_that_is_not_one_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "state.jsonl"
    bad.write_text('{"kind": "header", "format": "s3audit-state", "version": 1}\nnot json\n')
    code, _, output = _audit(tmp_path, "x", "--endpoint-url", NOWHERE, "--from-state", str(bad))
    assert code == 2
    assert f"{bad}:2: not JSON" in output and "Traceback" not in output
