"""build: schema-valid entries become typed, normalised BucketSpecs."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from auditor.controls.cors import build_rule as cors_rule
from auditor.controls.encryption import EncryptionSpec
from auditor.controls.lifecycle import build_rule as lifecycle_rule
from auditor.controls.website import WebsiteSpec
from auditor.model import (
    CorsRule,
    LifecycleRule,
    NoncurrentTransition,
    RedirectAll,
    SourceRef,
    SpecEntry,
    Transition,
)
from auditor.spec import load_specs
from auditor.spec.build import glob_literals, has_wildcard


def _one(tmp_path: Path, body: str) -> SpecEntry:
    path = tmp_path / "spec.yaml"
    path.write_text("version: 1\nbuckets:\n" + dedent(body), encoding="utf-8")
    (bucket,) = load_specs([path]).buckets
    return bucket


def test_lifecycle_rule_is_normalised_as_the_model_documents() -> None:
    rule = lifecycle_rule({
        "id": "r",
        "tags": {"b": "2", "a": "1"},
        "transitions": [
            {"days": 365, "storage_class": "GLACIER"},
            {"days": 90, "storage_class": "STANDARD_IA"},
        ],
        "noncurrent_transitions": [
            {"days": 90, "storage_class": "GLACIER"},
            {"days": 30, "storage_class": "STANDARD_IA", "newer_versions": 2},
        ],
        "expiration_days": 400,
    })
    assert rule == LifecycleRule(
        id="r",
        status="Enabled",
        prefix="",
        tags=(("a", "1"), ("b", "2")),
        transitions=(Transition("STANDARD_IA", 90), Transition("GLACIER", 365)),
        noncurrent_transitions=(
            NoncurrentTransition("STANDARD_IA", 30, 2), NoncurrentTransition("GLACIER", 90),
        ),
        expiration_days=400,
    )


def test_date_transitions_sort_by_date() -> None:
    rule = lifecycle_rule({"id": "r", "transitions": [
        {"date": "2031-01-01", "storage_class": "DEEP_ARCHIVE"},
        {"date": "2030-01-01", "storage_class": "GLACIER"},
    ]})
    assert [t.date for t in rule.transitions] == ["2030-01-01", "2031-01-01"]


def test_cors_rule_lists_are_sorted_and_methods_upper_case() -> None:
    rule = cors_rule({
        "allowed_origins": ["https://b", "https://a"],
        "allowed_methods": ["head", "GET"],
        "allowed_headers": ["X-B", "X-A"],
        "expose_headers": ["ETag", "Age"],
    })
    assert rule == CorsRule(
        allowed_origins=("https://a", "https://b"),
        allowed_methods=("GET", "HEAD"),
        allowed_headers=("X-A", "X-B"),
        expose_headers=("Age", "ETag"),
    )


def test_rule_order_in_the_file_never_matters(tmp_path: Path) -> None:
    first = _one(tmp_path, """\
      - name: bucket-a
        lifecycle:
          - {id: b, expiration_days: 1}
          - {id: a, expiration_days: 2}
        cors:
          - {allowed_origins: ["https://x"], allowed_methods: [PUT]}
          - {allowed_origins: ["*"], allowed_methods: [HEAD, GET]}
    """)
    second = _one(tmp_path, """\
      - name: bucket-a
        cors:
          - {allowed_origins: ["*"], allowed_methods: [GET, HEAD]}
          - {allowed_origins: ["https://x"], allowed_methods: [PUT]}
        lifecycle:
          - {id: a, expiration_days: 2}
          - {id: b, expiration_days: 1}
    """)
    # The rules compare as sets (the checks never look at order) ...
    for key in ("lifecycle", "cors"):
        assert set(first.want(key)) == set(second.want(key))  # type: ignore[call-overload]
        assert len(first.want(key)) == 2  # type: ignore[arg-type]
    # ... and are kept as written, so a difference's path `lifecycle[1]` is the second rule written.
    assert [r.id for r in first.want("lifecycle") or ()] == ["b", "a"]  # type: ignore[attr-defined]
    assert [r.id for r in second.want("lifecycle") or ()] == ["a", "b"]  # type: ignore[attr-defined]
    # Within a rule, lists are sets too: HEAD, GET and GET, HEAD are one rule.
    assert first.want("cors")[1] == second.want("cors")[0]  # type: ignore[index]


def test_controls_are_typed_and_unstated_ones_stay_none(tmp_path: Path) -> None:
    bucket = _one(tmp_path, """\
      - name: bucket-a
        encryption: {algorithm: "aws:kms", kms_key: alias/k}
        website:
          redirect_all_requests_to: {host_name: example.org, protocol: https}
        lifecycle: []
    """)
    assert bucket.want("encryption") == EncryptionSpec("aws:kms", "alias/k", None)
    assert bucket.want("website") == WebsiteSpec(
        redirect_all_requests_to=RedirectAll("example.org", "https")
    )
    assert bucket.want("lifecycle") == ()  # stated as empty: no rules allowed, which is checked
    assert bucket.want("cors") is None and bucket.want("versioning") is None
    assert bucket.stated() == ("encryption", "lifecycle", "website")


def test_website_false_means_must_not_be_a_website(tmp_path: Path) -> None:
    assert _one(tmp_path, "  - {name: bucket-a, website: false}\n").want("website") is False


def test_sources_hold_name_and_each_stated_control(tmp_path: Path) -> None:
    bucket = _one(tmp_path, """\
      - tls_only: true
        name: bucket-a
        description: not a control, so no source
        versioning: Enabled
    """)
    file = str(tmp_path / "spec.yaml")
    assert bucket.sources == (
        ("name", SourceRef(file, 4, 3)),
        ("versioning", SourceRef(file, 6, 3)),
        ("tls_only", SourceRef(file, 3, 3)),
    )


def test_glob_literals_skip_wildcards_and_classes() -> None:
    assert glob_literals("amply-*-prod") == "amply--prod"
    assert glob_literals("a?[bc]d[!e]") == "ad"
    assert glob_literals("a[]]b") == "ab"  # a leading ] is part of the class
    assert glob_literals("a[b") == "a[b"  # an unclosed [ is literal
    assert has_wildcard("a*") and has_wildcard("a[bc]") and not has_wildcard("a[b")
