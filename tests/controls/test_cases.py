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
from botocore.exceptions import ClientError

from auditor.collect import Collector, Target
from auditor.collect.facets import ACCOUNT_CALLS, FACETS, RUN_CALLS
from auditor.controls import stated_controls
from auditor.engine import (
    account_results,
    bucket_results,
    facets_needed,
    object_queries,
    principal_results,
)
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
ROLE = "amply-app"
REGION = "eu-central-1"
# Facets assembled from several calls or pages: read by the real collector from a client
# that answers with the recorded responses (so pagination, sampling and the role's policy
# walk are the code under test too).
COLLECTED = frozenset({Facet.OBJECTS, Facet.ALARMS, Facet.REQUEST_METRICS, Facet.ROLE,
                       Facet.ACCESS_POINTS, Facet.TRAILS})
# Recorded answers of these calls are keyed by one request parameter.
KEYED = {"HeadObject": "Key", "ListObjectsV2": "Prefix", "GetRolePolicy": "PolicyName",
         "GetPolicy": "PolicyArn", "GetPolicyVersion": "PolicyArn", "GetAccessPoint": "Name",
         "GetTrailStatus": "Name", "GetEventSelectors": "TrailName"}
_CALLS = {c.method: c for f in FACETS.values() for c in f.calls} | {c.method: c for c in (*RUN_CALLS, *ACCOUNT_CALLS)}
_TOKENS = {"ContinuationToken", "NextToken", "Marker"}


class RecordedClient:
    """A boto3 client stand-in answering from a case's `aws:` answers: a mapping (keyed by
    the KEYED parameter where the API has one), a list of pages (each page's own next-token
    field leads to the next), or {error: Code} raised as botocore raises it."""

    def __init__(self, recorded: dict[str, Any]) -> None:
        self.recorded = {"GetCallerIdentity": {"Account": ACCOUNT}, **recorded}

    def __getattr__(self, method: str) -> Any:
        api = _CALLS[method].api
        return lambda **params: self._answer(api, params)

    def _answer(self, api: str, params: dict[str, Any]) -> Any:
        if api not in self.recorded:
            raise AssertionError(f"the case records no answer for {api} {params}")
        value = self.recorded[api]
        if api in KEYED and isinstance(value, dict) and "error" not in value:
            key = str(params[KEYED[api]])
            if key not in value:
                raise AssertionError(f"the case records no {api} answer for {key!r}")
            value = value[key]
        if isinstance(value, list):
            value = _page(value, next((params[t] for t in _TOKENS if t in params), None))
        if isinstance(value, dict) and "error" in value:
            status = int(value.get("status", 404 if value["error"] in ("404", "NoSuchEntity") else 403))
            raise ClientError({"Error": {"Code": value["error"], "Message": value.get("message", "recorded error")},
                               "ResponseMetadata": {"HTTPStatusCode": status}}, api)
        return value


def _page(pages: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    if token is None:
        return pages[0]
    for i, page in enumerate(pages[:-1]):
        if token in (page.get(t) for t in ("NextContinuationToken", "NextToken", "Marker")):
            return pages[i + 1]
    raise AssertionError(f"no recorded page follows token {token!r}")


class RecordedClients:
    def __init__(self, recorded: dict[str, Any]) -> None:
        self.client_ = RecordedClient(recorded)

    def client(self, service: str, region: str | None = None) -> RecordedClient:
        return self.client_


def _collected(spec: Any, subject: str, facets: frozenset[Facet], recorded: dict[str, Any]) -> dict[Facet, FacetValue]:
    collector = Collector(RecordedClients(recorded))  # type: ignore[arg-type]
    wanted = facets & COLLECTED
    if not wanted:
        return {}
    target = Target(subject, True, REGION, frozenset(wanted), (), object_queries(spec))
    return dict(collector.bucket(target).facets)


def _key(facet: Facet) -> str:
    spec = FACETS[facet]
    return spec.api if spec.service == "s3" else f"{spec.service}:{spec.api}"


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
    """`DescribeKey: {ref: arn}` resolves in the bucket's region, `DescribeKey@REGION` in
    another (a replica key in the destination's region)."""
    keys = []
    aliases = recorded.get("ListAliases", {})  # key ARN -> its alias names
    for name, raw in recorded.items():
        if not name.startswith("DescribeKey"):
            continue
        if "error" in raw:
            return Unreadable(Facet.KMS_KEYS, "DescribeKey", raw["error"], "recorded error")
        region = name.partition("@")[2] or None
        keys += [KmsKey(ref, arn, region, tuple(aliases.get(arn, ()))) for ref, arn in raw.items()]
    return KmsKeys(tuple(keys))


def _facets(facets: frozenset[Facet], recorded: dict[str, Any]) -> tuple[tuple[Facet, FacetValue], ...]:
    return tuple((f, _kms(recorded) if f is Facet.KMS_KEYS else _facet_value(f, recorded))
                 for f in sorted(facets))


_SECTIONS = {Scope.BUCKET: ("buckets", "name"), Scope.ACCOUNT: ("accounts", "id"),
             Scope.PRINCIPAL: ("principals", "role")}


def run_case(case: dict[str, Any], tmp_path: Path) -> list[Result]:
    scope = Scope(case.get("scope", "bucket"))
    subject = {Scope.BUCKET: case.get("bucket", BUCKET), Scope.ACCOUNT: case.get("account", ACCOUNT),
               Scope.PRINCIPAL: case.get("role", ROLE)}[scope]
    recorded = case.get("aws") or {}
    spec = None
    if case.get("spec") is not None:
        section, name_key = _SECTIONS[scope]
        doc = {"version": 1, section: [{name_key: subject, **case["spec"]}]}
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(doc))
        spec = effective_spec(load_specs([path]), subject, scope)
    if scope is Scope.ACCOUNT:
        assert spec is not None
        return account_results(spec, AccountState(subject, _facets(facets_needed(spec), recorded)))
    if scope is Scope.PRINCIPAL:
        assert spec is not None
        collector = Collector(RecordedClients(recorded))  # type: ignore[arg-type]
        return principal_results(spec, collector.principal(subject, facets_needed(spec)))
    if case.get("live", True) is False:
        absence = Absence(case["absence"]) if "absence" in case else None
        return bucket_results(spec, BucketState(subject, ACCOUNT, None, exists=False, absence=absence))
    needed = facets_needed(spec) if spec else frozenset()
    collected = _collected(spec, subject, needed, recorded) if spec else {}
    plain = dict(_facets(needed - COLLECTED, recorded))
    facets = tuple((f, collected[f] if f in collected else plain[f]) for f in sorted(needed))
    return bucket_results(spec, BucketState(subject, ACCOUNT, REGION, True, facets))


def case_control(case: dict[str, Any]) -> str:
    """The control a case judges: `control:`, else the control its spec's first key states."""
    if case.get("control"):
        return str(case["control"])
    first = next(iter(case["spec"]))
    scope = Scope(case.get("scope", "bucket"))
    return next((c.key for c in stated_controls(scope) if c.spec_key == first), first)


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
        scope = case.get("scope", "bucket")
        expected = key if scope in ("bucket", "principal") else f"{scope}_{key}"
        assert stem == expected, f"case {case['name']!r} of {key} is in {stem}.yaml"
