"""effective_spec: glob baselines merged under exact entries, key by key, most specific wins."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from auditor.controls.public_access_block import PublicAccessBlockSpec
from auditor.model import SourceRef, SpecSet
from auditor.spec import effective_spec, load_specs, matching_entries


def _specs(tmp_path: Path, **files: str) -> SpecSet:
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(dedent(text), encoding="utf-8")
    return load_specs([tmp_path])


BASELINE = """\
    version: 1
    buckets:
      - match: "amply-*"
        region: eu-central-1
        versioning: Enabled
        tls_only: true
        public_access_block:
          block_public_acls: true
          ignore_public_acls: true
          block_public_policy: true
          restrict_public_buckets: true
        lifecycle:
          - {id: abort-uploads, abort_incomplete_multipart_upload_days: 7}
          - {id: cleanup-temp, prefix: temp/, expiration_days: 7}
    """
EXACT = """\
    version: 1
    buckets:
      - name: amply-public-data
        versioning: Suspended
        public_access: read
        public_access_block:
          restrict_public_buckets: false
        lifecycle:
          - {id: expire-exports, prefix: exports/, expiration_days: 30}
    """


@pytest.fixture
def merged(tmp_path: Path) -> SpecSet:
    # "a-exact" sorts before "b-baseline": load order must not decide exact vs glob.
    return _specs(tmp_path, **{"a-exact": EXACT, "b-baseline": BASELINE})


def test_exact_entry_wins_each_key_it_states(merged: SpecSet) -> None:
    spec = effective_spec(merged, "amply-public-data")
    assert spec is not None
    assert spec.name == "amply-public-data" and spec.match is None
    assert spec.want("versioning") == "Suspended"
    assert spec.want("public_access") == "read"


def test_keys_the_exact_entry_omits_come_from_the_baseline(merged: SpecSet) -> None:
    spec = effective_spec(merged, "amply-public-data")
    assert spec is not None
    assert spec.want("region") == "eu-central-1"
    assert spec.want("tls_only") is True
    assert spec.stated() == (
        "region", "versioning", "public_access_block", "public_access", "tls_only", "lifecycle",
    )


def test_lists_and_mappings_are_replaced_whole_not_merged(merged: SpecSet) -> None:
    spec = effective_spec(merged, "amply-public-data")
    assert spec is not None
    assert [rule.id for rule in spec.want("lifecycle") or ()] == ["expire-exports"]
    # Only the flag the exact entry states: the baseline's other three are not inherited.
    assert spec.want("public_access_block") == PublicAccessBlockSpec(restrict_public_buckets=False)


def test_sources_point_at_the_entry_that_supplied_each_control(
    merged: SpecSet, tmp_path: Path
) -> None:
    spec = effective_spec(merged, "amply-public-data")
    assert spec is not None
    exact, baseline = str(tmp_path / "a-exact.yaml"), str(tmp_path / "b-baseline.yaml")
    assert spec.source("name") == SourceRef(exact, 3, 5)
    assert spec.source("versioning") == SourceRef(exact, 4, 5)
    assert spec.source("lifecycle") == SourceRef(exact, 8, 5)
    assert spec.source("region") == SourceRef(baseline, 4, 5)
    assert spec.source("tls_only") == SourceRef(baseline, 6, 5)
    assert spec.source("match") is None
    assert spec.source("cors") is None  # nobody states it


def test_bucket_matched_only_by_globs_gets_the_baseline(merged: SpecSet, tmp_path: Path) -> None:
    spec = effective_spec(merged, "amply-unlisted")
    assert spec is not None
    assert spec.name == "amply-unlisted" and spec.match is None
    assert spec.want("versioning") == "Enabled"
    assert [rule.id for rule in spec.want("lifecycle") or ()] == ["abort-uploads", "cleanup-temp"]
    assert spec.source("name") is None
    assert spec.source("versioning") == SourceRef(str(tmp_path / "b-baseline.yaml"), 5, 5)


def test_no_matching_entry_gives_none(merged: SpecSet) -> None:
    assert effective_spec(merged, "other-bucket") is None
    assert matching_entries(merged, "other-bucket") == ()


def test_globs_match_case_sensitively(merged: SpecSet) -> None:
    # Bucket names are lower-case; fnmatchcase keeps "AMPLY-x" from matching on any OS.
    assert effective_spec(merged, "AMPLY-x") is None


def test_more_literal_glob_wins_whatever_the_load_order(tmp_path: Path) -> None:
    specs = _specs(tmp_path, narrow="""\
        version: 1
        buckets:
          - match: "amply-*-prod"
            versioning: Enabled
        """, wide="""\
        version: 1
        buckets:
          - match: "amply-*"
            versioning: Suspended
            region: eu-west-1
        """)
    prod = effective_spec(specs, "amply-storage-prod")
    dev = effective_spec(specs, "amply-storage-dev")
    assert prod is not None and dev is not None
    assert (prod.want("versioning"), prod.want("region")) == ("Enabled", "eu-west-1")
    assert (dev.want("versioning"), dev.want("region")) == ("Suspended", "eu-west-1")
    assert prod.source("versioning") == SourceRef(str(tmp_path / "narrow.yaml"), 4, 5)
    assert [s.match for s in matching_entries(specs, "amply-storage-prod")] == [
        "amply-*", "amply-*-prod",
    ]


def test_equally_specific_globs_later_in_load_order_win(tmp_path: Path) -> None:
    specs = _specs(tmp_path, a="""\
        version: 1
        buckets:
          - {match: "ampl*", versioning: Enabled}
          - {match: "*prod", versioning: Suspended}
        """)
    spec = effective_spec(specs, "amply-prod")
    assert spec is not None and spec.want("versioning") == "Suspended"


def test_character_classes_count_as_wildcards(tmp_path: Path) -> None:
    specs = _specs(tmp_path, a="""\
        version: 1
        buckets:
          - {match: "amply-[abc]*", tls_only: false}
          - {match: "amply-a*", tls_only: true}
        """)
    # "amply-a*" has 7 literal characters, "amply-[abc]*" only 6.
    spec = effective_spec(specs, "amply-able")
    assert spec is not None and spec.want("tls_only") is True


def test_exact_entry_is_last_even_when_a_glob_is_longer(tmp_path: Path) -> None:
    specs = _specs(tmp_path, a="""\
        version: 1
        buckets:
          - {name: amply-x, versioning: Enabled}
          - {match: "amply-x*????????????????", versioning: Suspended}
          - {match: "amply-?", versioning: Suspended}
        """)
    assert [s.label for s in matching_entries(specs, "amply-x")] == ["match amply-?", "amply-x"]
    spec = effective_spec(specs, "amply-x")
    assert spec is not None and spec.want("versioning") == "Enabled"
