"""Bucket policies taken from AWS documentation and other projects' public test suites.

Each file in corpus/ holds one policy with its source (URL, and the file it was read from),
any placeholder substitution, and the verdicts s3audit must reach on it: public exposure
(none / read / write, from the policy alone), tls_only, and where stated min_tls_version and
cross_account. corpus/VERDICTS.md compares these with the verdicts of the evaluator before
issue 8.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.policy.document import parse_policy
from auditor.policy.evaluate import (
    Allowance,
    cross_account_check,
    min_tls_check,
    public_exposure,
    tls_only_check,
)

CORPUS = Path(__file__).parent / "corpus"
ENTRIES = {path.stem: yaml.safe_load(path.read_text()) for path in sorted(CORPUS.glob("*.yaml"))}


def exposure_level(entry: dict[str, Any]) -> str:
    """none / read / write, as public_access would see the policy with no block in the way."""
    exposure = public_exposure(parse_policy(entry["policy"]), entry["bucket"], entry["account"])
    if exposure.beyond_read:
        return "write"
    return "read" if exposure.public else "none"


def allowance(raw: dict[str, list[str]] | None) -> Allowance | None:
    if raw is None:
        return None
    return Allowance(**{key: frozenset(values) for key, values in raw.items()})


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_public_exposure(name: str) -> None:
    assert exposure_level(ENTRIES[name]) == ENTRIES[name]["expect"]["public"]


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_tls_only(name: str) -> None:
    entry = ENTRIES[name]
    verdict = tls_only_check(parse_policy(entry["policy"]), entry["bucket"])
    assert verdict.enforced is entry["expect"]["tls_only"], verdict.gaps


@pytest.mark.parametrize("name", sorted(n for n, e in ENTRIES.items() if "min_tls" in e["expect"]))
def test_min_tls_version(name: str) -> None:
    entry = ENTRIES[name]
    for version, enforced in entry["expect"]["min_tls"].items():
        verdict = min_tls_check(parse_policy(entry["policy"]), entry["bucket"], version)
        assert verdict.enforced is enforced, (version, verdict.gaps)


@pytest.mark.parametrize("name", sorted(n for n, e in ENTRIES.items()
                                        if "cross_account" in e["expect"]))
def test_cross_account(name: str) -> None:
    entry = ENTRIES[name]
    doc = parse_policy(entry["policy"])
    for check in entry["expect"]["cross_account"]:
        verdict = cross_account_check(doc, entry["bucket"], entry["account"],
                                      allowance(check["allowed"]))
        assert verdict.ok is check["ok"], (check, verdict.explanation)
        assert verdict.ok or all(g.reason for g in verdict.offending)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_malformed_statements_are_named(name: str) -> None:
    entry = ENTRIES[name]
    doc = parse_policy(entry["policy"])
    malformed = [st.label for st in doc.statements if st.malformed]
    assert malformed == entry["expect"].get("malformed", [])
    notes = public_exposure(doc, entry["bucket"], entry["account"]).notes
    assert all(any(label in n and "is malformed" in n for n in notes) for label in malformed)


def test_the_corpus_is_large_and_every_policy_is_attributed() -> None:
    assert len(ENTRIES) >= 30
    for name, entry in ENTRIES.items():
        assert entry["source"].startswith("https://"), name
        assert {"none", "read", "write"} >= {entry["expect"]["public"]}, name


def test_verdicts_md_shows_what_this_code_decides() -> None:
    rows = [line.split(" | ") for line in (CORPUS / "VERDICTS.md").read_text().splitlines()
            if line.startswith("| [")]
    assert len(rows) == len(ENTRIES)
    for cells in rows:
        name = cells[0].removeprefix("| [").split("]")[0]
        public_after = cells[1].split("**")[1]
        tls_after = cells[2].split("**")[1]
        assert public_after == ENTRIES[name]["expect"]["public"], name
        assert tls_after == ("yes" if ENTRIES[name]["expect"]["tls_only"] else "no"), name
