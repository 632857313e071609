"""Runs the YAML rule cases in cases/*.yaml: spec fragment + recorded API responses -> verdict.

The spec is built by the real spec loader, the responses are parsed by the real
collect parsers (errors classified by the real absent/unreadable table), and the
verdict comes from the real engine. No AWS, no moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.collect.facets import FACETS
from auditor.engine import bucket_results, facets_needed
from auditor.model import BucketState, Facet, FacetValue, KmsKey, KmsKeys, Result, Unreadable
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
    return KmsKeys(tuple(KmsKey(ref, arn) for ref, arn in raw.items()))


def run_case(case: dict[str, Any], tmp_path: Path) -> list[Result]:
    bucket = case.get("bucket", BUCKET)
    spec = None
    if case.get("spec") is not None:
        doc = {"version": 1, "buckets": [{"name": bucket, **case["spec"]}]}
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(doc))
        spec = effective_spec(load_specs([path]), bucket)
    if case.get("live", True) is False:
        return bucket_results(spec, BucketState(bucket, ACCOUNT, None, exists=False))
    recorded = case.get("aws") or {}
    facets: list[tuple[Facet, FacetValue]] = []
    for facet in sorted(facets_needed(spec)) if spec else []:
        value = _kms(recorded) if facet is Facet.KMS_KEYS else _facet_value(facet, recorded)
        facets.append((facet, value))
    return bucket_results(spec, BucketState(bucket, ACCOUNT, "eu-central-1", True, tuple(facets)))


def _load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()):
            params.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return params


@pytest.mark.parametrize("case", _load_cases())
def test_case(case: dict[str, Any], tmp_path: Path) -> None:
    results = run_case(case, tmp_path)
    control = case.get("control") or next(iter(case["spec"]))
    mine = [r for r in results if r.control == control]
    assert len(mine) == 1, f"expected exactly one {control} result, got {results}"
    result = mine[0]
    assert result.status.value == case["expect"], result.message
    for fragment in case.get("message", []):
        assert fragment in result.message, f"{fragment!r} not in {result.message!r}"
    if "actual" in case:
        assert result.actual == case["actual"]
    if case["expect"] == "drift":
        assert result.remediation, "a drift must carry a remediation"
        for fragment in case.get("remediation", []):
            assert fragment in result.remediation
    if "paths" in case:
        assert sorted(d.path for d in result.differences) == sorted(case["paths"])
