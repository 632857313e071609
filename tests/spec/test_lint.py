"""lint: what it must NOT flag (the invalid fixtures cover what it must flag)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from auditor.spec import check_specs

ACCEPTED = {
    "transitions in order, 30 days apart after IA": """\
      - name: bucket-a
        lifecycle:
          - id: r
            transitions:
              - {days: 30, storage_class: STANDARD_IA}
              - {days: 60, storage_class: GLACIER}
              - {days: 150, storage_class: DEEP_ARCHIVE}
            expiration_days: 151
    """,
    "Glacier on day 0 (allowed by S3)": """\
      - name: bucket-a
        lifecycle: [{id: r, transitions: [{days: 0, storage_class: GLACIER}]}]
    """,
    "transitions written out of order but consistent": """\
      - name: bucket-a
        lifecycle:
          - id: r
            transitions:
              - {days: 365, storage_class: GLACIER}
              - {days: 90, storage_class: STANDARD_IA}
    """,
    "expiration date after dated transitions": """\
      - name: bucket-a
        lifecycle:
          - id: r
            transitions: [{date: "2030-01-01", storage_class: GLACIER}]
            expiration_date: "2030-06-01"
    """,
    "same rule id in two buckets": """\
      - {name: bucket-a, lifecycle: [{id: r, expiration_days: 1}]}
      - {name: bucket-b, lifecycle: [{id: r, expiration_days: 1}]}
    """,
    "tls_only with website: false": """\
      - {name: bucket-a, tls_only: true, website: false}
    """,
    "website without tls_only": """\
      - {name: bucket-a, tls_only: false, website: {index_document: index.html}}
    """,
    "public read with restrict_public_buckets false": """\
      - name: bucket-a
        public_access: read
        public_access_block: {restrict_public_buckets: false, block_public_policy: true}
    """,
    "public none with every block": """\
      - name: bucket-a
        public_access: none
        public_access_block: {restrict_public_buckets: true, ignore_public_acls: true}
    """,
    "dsse and kms keys": """\
      - {name: bucket-a, encryption: {algorithm: "aws:kms:dsse", kms_key: alias/k}}
      - {name: bucket-b, encryption: {algorithm: AES256, bucket_key: false}}
    """,
    "a name and a glob with the same text": """\
      - {name: bucket-a, tls_only: true}
      - {match: "bucket-[a]", tls_only: true}
    """,
    "one wildcard per origin and header": """\
      - name: bucket-a
        cors:
          - {allowed_origins: ["https://*.example.org"], allowed_methods: [GET],
             allowed_headers: ["x-amz-*"]}
          - {allowed_origins: ["https://*.example.org"], allowed_methods: [PUT]}
    """,
    "object size range": """\
      - name: bucket-a
        lifecycle:
          - {id: r, expiration_days: 1, object_size_greater_than: 0, object_size_less_than: 1}
    """,
}


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_lint_accepts(tmp_path: Path, body: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("version: 1\nbuckets:\n" + dedent(body), encoding="utf-8")
    assert check_specs([path]) == ()


def test_lint_skips_entries_the_schema_rejected(tmp_path: Path) -> None:
    # The second entry would also trip the glob lint; only its schema error is reported.
    path = tmp_path / "spec.yaml"
    path.write_text(dedent("""\
        version: 1
        buckets:
          - {name: bucket-a, tls_only: true, website: {index_document: i.html}}
          - {match: no-wildcard, versioning: on}
        """), encoding="utf-8")
    assert [(p.line, p.key) for p in check_specs([path])] == [
        (3, "buckets[0].tls_only"), (4, "buckets[1].versioning"),
    ]


def test_contract_example_loads_with_a_tls_website_warning() -> None:
    from auditor.spec import load_specs

    path = Path(__file__).parent / "fixtures" / "valid" / "contract-example.yaml"
    specs = load_specs([path])
    assert len(specs.warnings) == 1
    assert "warning: buckets[0].tls_only: " in specs.warnings[0]
    assert "plain HTTP only" in specs.warnings[0]


def test_tls_only_on_a_website_is_a_warning_on_the_tls_only_line(tmp_path: Path) -> None:
    from auditor.spec import load_specs

    path = tmp_path / "site.yaml"
    path.write_text("version: 1\nbuckets:\n  - name: amply-frontend-prod\n"
                    "    website: {index_document: index.html}\n    tls_only: true\n")
    specs = load_specs([path])
    assert specs.warnings == (
        f"{path}:5:5: warning: buckets[0].tls_only: tls_only: true contradicts website hosting: "
        "the S3 website endpoint serves plain HTTP only, so a TLS-only policy would deny every "
        "website request (put HTTPS in front with CloudFront instead)",
    )
