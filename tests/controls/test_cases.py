"""Runs the YAML control cases in cases/<control>.yaml: spec fragment + recorded API answers
-> verdict.

The spec is built by the real spec loader, the answers are parsed by the real collect
parsers (errors classified by the real absent/unreadable table), and the verdict comes from
the real engine. No AWS, no moto. A case with `scope: account` states an `accounts:` entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.collect.facets import FACETS
from auditor.engine import account_results, bucket_results, facets_needed
from auditor.model import (
    Absence,
    AccountState,
    BucketState,
    Facet,
    FacetValue,
    KmsKey,
    KmsKeys,
    Result,
    Scope,
    Unreadable,
)
from auditor.spec import load_specs
from auditor.spec.build import effective_spec

CASES = Path(__file__).parent / "cases"
ACCOUNT = "123456789012"
BUCKET = "amply-storage-prod"


def _key(facet: Facet) -> str:
    spec = FACETS[facet]
    return f"{spec.service}:{spec.api}" if spec.service == "s3control" else spec.api


def _facet_value(facet: Facet, recorded: dict[str, Any]) -> FacetValue:
    spec = FACETS[facet]
    raw = recorded.get(_key(facet))
    if isinstance(raw, dict) and "error" in raw:
        code = raw["error"]
        if code in spec.absent_codes:
            return spec.parse(None)
        return Unreadable(facet, spec.api, code, raw.get("message", "recorded error"))
    if facet is Facet.POLICY and isinstance(raw, dict | list) and raw is not None:
        raw = {"Policy": json.dumps(raw)}
    return spec.parse(raw)


def _kms(recorded: dict[str, Any]) -> FacetValue:
    raw = recorded.get("DescribeKey", {})
    if "error" in raw:
        return Unreadable(Facet.KMS_KEYS, "DescribeKey", raw["error"], "recorded error")
    aliases = recorded.get("ListAliases", {})  # key ARN -> its alias names
    return KmsKeys(tuple(KmsKey(ref, arn, tuple(aliases.get(arn, ()))) for ref, arn in raw.items()))


def _facets(facets: frozenset[Facet], recorded: dict[str, Any]) -> tuple[tuple[Facet, FacetValue], ...]:
    return tuple((f, _kms(recorded) if f is Facet.KMS_KEYS else _facet_value(f, recorded))
                 for f in sorted(facets))


def run_case(case: dict[str, Any], tmp_path: Path) -> list[Result]:
    scope = Scope(case.get("scope", "bucket"))
    subject = case.get("bucket", BUCKET) if scope is Scope.BUCKET else case.get("account", ACCOUNT)
    recorded = case.get("aws") or {}
    spec = None
    if case.get("spec") is not None:
        section, name_key = ("buckets", "name") if scope is Scope.BUCKET else ("accounts", "id")
        doc = {"version": 1, section: [{name_key: subject, **case["spec"]}]}
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(doc))
        spec = effective_spec(load_specs([path]), subject, scope)
    if scope is Scope.ACCOUNT:
        assert spec is not None
        return account_results(spec, AccountState(subject, _facets(facets_needed(spec), recorded)))
    if case.get("live", True) is False:
        absence = Absence(case["absence"]) if "absence" in case else None
        return bucket_results(spec, BucketState(subject, ACCOUNT, None, exists=False, absence=absence))
    facets = _facets(facets_needed(spec), recorded) if spec else ()
    return bucket_results(spec, BucketState(subject, ACCOUNT, "eu-central-1", True, facets))


def case_control(case: dict[str, Any]) -> str:
    """The control a case judges: `control:`, else the first key of its spec."""
    return str(case.get("control") or next(iter(case["spec"])))


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    """(file stem, case) for every case of every file."""
    return [(path.stem, case) for path in sorted(CASES.glob("*.yaml"))
            for case in yaml.safe_load(path.read_text())]


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{stem}: {c['name']}") for stem, c in load_cases()])
def test_case(case: dict[str, Any], tmp_path: Path) -> None:
    results = run_case(case, tmp_path)
    control = case_control(case)
    mine = [r for r in results if r.control == control]
    assert len(mine) == 1, f"expected exactly one {control} result, got {results}"
    result = mine[0]
    assert result.status.value == case["expect"], result.message
    assert result.scope.value == case.get("scope", "bucket")
    for fragment in case.get("message", []):
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"
    for fragment in case.get("not_message", []):
        assert fragment not in result.message, f"{fragment!r} in {result.message!r}"
    for fragment in case.get("once", []):  # named exactly once in the message
        assert result.message.count(fragment) == 1, f"{fragment!r} not once in {result.message!r}"
    if "actual" in case:
        assert result.actual == case["actual"]
    if case["expect"] == "drift":
        assert result.remediation, "a drift must carry a remediation"
        for fragment in case.get("remediation", []):
            assert fragment in result.remediation
        for fragment in case.get("not_remediation", []):
            assert fragment not in result.remediation
    if case["expect"] == "error":
        assert result.error is not None and result.error.code, "an error names the failed read"
    if "paths" in case:
        assert sorted(d.path for d in result.differences) == sorted(case["paths"])


def test_every_case_is_in_the_file_of_its_control() -> None:
    for stem, case in load_cases():
        key = case_control(case)
        expected = key if case.get("scope", "bucket") == "bucket" else f"account_{key}"
        assert stem == expected, f"case {case['name']!r} of {key} is in {stem}.yaml"
