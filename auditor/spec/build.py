"""Validated spec data -> typed `BucketSpec`s, and the merge of glob baselines per bucket.

Everything here assumes the entry already passed the JSON Schema: keys are known and
types are right, so building is plain mapping with normalisation (sorted tuples) so that
a spec and the live configuration compare by equality.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from auditor.errors import SpecProblem
from auditor.model import (
    SPEC_CONTROLS,
    BucketSpec,
    CorsRule,
    EncryptionSpec,
    LifecycleRule,
    NoncurrentTransition,
    PublicAccessBlockSpec,
    RedirectAll,
    Severity,
    SourceRef,
    SpecSet,
    Transition,
    Waiver,
    WebsiteSpec,
)
from auditor.spec.yaml_loader import KeyPath, YamlDocument

_SOURCE_KEYS = ("name", "match", *SPEC_CONTROLS, "severity")


@dataclass(frozen=True, slots=True)
class Entry:
    """One raw bucket entry (`buckets[index]`) of a loaded document."""

    doc: YamlDocument
    index: int
    data: Mapping[str, Any]

    @property
    def path(self) -> KeyPath:
        return ("buckets", self.index)

    def problem(self, keys: KeyPath, message: str) -> SpecProblem:
        """A problem at `keys` below this entry, on the line of the last key."""
        return self.doc.problem((*self.path, *keys), message)

    def source(self, key: str) -> SourceRef:
        """Where this entry states `key` (the entry's own start if it does not)."""
        line, column = self.doc.marks.position((*self.path, key))
        return SourceRef(self.doc.file, line, column)


# --------------------------------------------------------------------------- globs


def glob_literals(pattern: str) -> str:
    """The characters of an fnmatch glob outside `*`, `?` and `[...]` classes."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in "*?":
            i += 1
            continue
        end = _class_end(pattern, i) if char == "[" else None
        if end is not None:
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int | None:
    # Same rules as fnmatch.translate: a `]` first in the class is literal, and a `[`
    # without a closing `]` is a literal `[`.
    j = start + 1
    if j < len(pattern) and pattern[j] == "!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    return j if j < len(pattern) else None


def has_wildcard(pattern: str) -> bool:
    """Whether the glob matches anything other than its literal text."""
    return glob_literals(pattern) != pattern


# --------------------------------------------------------------------------- normalisation


def transition_key(transition: Transition) -> tuple[int, str, str]:
    """Sort key of transitions, as the model documents it: (days or 0, date or "", class)."""
    return (transition.days or 0, transition.date or "", transition.storage_class)


def lifecycle_rule(raw: Mapping[str, Any]) -> LifecycleRule:
    """One schema-valid lifecycle rule mapping as a normalised `LifecycleRule`."""
    transitions = (
        Transition(t["storage_class"], t.get("days"), t.get("date"))
        for t in raw.get("transitions", ())
    )
    noncurrent = (
        NoncurrentTransition(t["storage_class"], t["days"], t.get("newer_versions"))
        for t in raw.get("noncurrent_transitions", ())
    )
    return LifecycleRule(
        id=raw["id"],
        status=raw.get("status", "Enabled"),
        prefix=raw.get("prefix", ""),
        tags=tuple(sorted((str(k), str(v)) for k, v in raw.get("tags", {}).items())),
        object_size_greater_than=raw.get("object_size_greater_than"),
        object_size_less_than=raw.get("object_size_less_than"),
        transitions=tuple(sorted(transitions, key=transition_key)),
        expiration_days=raw.get("expiration_days"),
        expiration_date=raw.get("expiration_date"),
        expired_object_delete_marker=raw.get("expired_object_delete_marker"),
        noncurrent_expiration_days=raw.get("noncurrent_expiration_days"),
        noncurrent_newer_versions=raw.get("noncurrent_newer_versions"),
        noncurrent_transitions=tuple(
            sorted(noncurrent, key=lambda t: (t.days, t.storage_class, t.newer_versions or 0))
        ),
        abort_incomplete_multipart_upload_days=raw.get("abort_incomplete_multipart_upload_days"),
    )


def cors_rule(raw: Mapping[str, Any]) -> CorsRule:
    """One schema-valid CORS rule mapping as a normalised `CorsRule`."""
    return CorsRule(
        allowed_origins=tuple(sorted(raw["allowed_origins"])),
        allowed_methods=tuple(sorted(m.upper() for m in raw["allowed_methods"])),
        allowed_headers=tuple(sorted(raw.get("allowed_headers", ()))),
        expose_headers=tuple(sorted(raw.get("expose_headers", ()))),
        max_age_seconds=raw.get("max_age_seconds"),
        id=raw.get("id"),
    )


def cors_key(rule: CorsRule) -> tuple[Any, ...]:
    """A total sort key for CORS rules (None sorts first)."""
    return (
        rule.allowed_origins, rule.allowed_methods, rule.allowed_headers, rule.expose_headers,
        -1 if rule.max_age_seconds is None else rule.max_age_seconds, rule.id or "",
    )


def lifecycle_rules(raw: Iterable[Mapping[str, Any]]) -> tuple[LifecycleRule, ...]:
    """Lifecycle rules normalised and sorted by id (their order means nothing to S3)."""
    return tuple(sorted((lifecycle_rule(r) for r in raw), key=lambda r: r.id))


def cors_rules(raw: Iterable[Mapping[str, Any]]) -> tuple[CorsRule, ...]:
    """CORS rules normalised and sorted, so that two sets compare equal as tuples."""
    return tuple(sorted((cors_rule(r) for r in raw), key=cors_key))


def _encryption(raw: Mapping[str, Any] | None) -> EncryptionSpec | None:
    if raw is None:
        return None
    return EncryptionSpec(raw["algorithm"], raw.get("kms_key"), raw.get("bucket_key"))


def _public_access_block(raw: Mapping[str, Any] | None) -> PublicAccessBlockSpec | None:
    return None if raw is None else PublicAccessBlockSpec(**raw)


def _website(raw: Mapping[str, Any] | bool | None) -> WebsiteSpec | Literal[False] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):  # the schema allows only `false` here
        return False
    redirect = raw.get("redirect_all_requests_to")
    return WebsiteSpec(
        index_document=raw.get("index_document"),
        error_document=raw.get("error_document"),
        redirect_all_requests_to=(
            None if redirect is None
            else RedirectAll(redirect["host_name"], redirect.get("protocol"))
        ),
    )


def build_waivers(doc: YamlDocument) -> tuple[Waiver, ...]:
    """The document's schema-valid `waivers:` list as typed Waivers, each with its source line."""
    raw = doc.data.get("waivers") if isinstance(doc.data, Mapping) else None
    out = []
    for index, item in enumerate(raw if isinstance(raw, list) else ()):
        line, column = doc.marks.position(("waivers", index))
        out.append(Waiver(
            bucket=str(item["bucket"]), control=str(item["control"]), reason=str(item["reason"]),
            expires=str(item["expires"]), owner=str(item["owner"]),
            ticket=str(item["ticket"]) if item.get("ticket") is not None else None,
            source=SourceRef(doc.file, line, column),
        ))
    return tuple(out)


def build_bucket(entry: Entry) -> BucketSpec:
    """A schema-valid entry as a typed `BucketSpec`, with a SourceRef per stated key."""
    data = entry.data
    lifecycle, cors = data.get("lifecycle"), data.get("cors")
    return BucketSpec(
        name=data.get("name"),
        match=data.get("match"),
        region=data.get("region"),
        versioning=data.get("versioning"),
        encryption=_encryption(data.get("encryption")),
        public_access_block=_public_access_block(data.get("public_access_block")),
        public_access=data.get("public_access"),
        tls_only=data.get("tls_only"),
        lifecycle=None if lifecycle is None else lifecycle_rules(lifecycle),
        cors=None if cors is None else cors_rules(cors),
        website=_website(data.get("website")),
        severity=tuple(sorted((c, Severity(v)) for c, v in (data.get("severity") or {}).items())),
        sources=tuple((key, entry.source(key)) for key in _SOURCE_KEYS if key in data),
    )


# --------------------------------------------------------------------------- merge


def applies(spec: BucketSpec, bucket: str) -> bool:
    """Whether the entry names `bucket` exactly or its glob matches it (case-sensitively)."""
    if spec.name is not None:
        return spec.name == bucket
    return spec.match is not None and fnmatchcase(bucket, spec.match)


def specificity(spec: BucketSpec) -> tuple[int, int]:
    """Exact names beat globs; among globs, more literal characters beat fewer."""
    if spec.name is not None:
        return (1, len(spec.name))
    return (0, len(glob_literals(spec.match or "")))


def matching_entries(specs: SpecSet, bucket: str) -> tuple[BucketSpec, ...]:
    """Every entry that applies to `bucket`, least specific first (load order breaks ties)."""
    found = [(specificity(s), i, s) for i, s in enumerate(specs.buckets) if applies(s, bucket)]
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(spec for _, _, spec in found)


def effective_spec(specs: SpecSet, bucket: str) -> BucketSpec | None:
    """The merged spec for `bucket`: per control, the most specific entry stating it wins whole."""
    entries = matching_entries(specs, bucket)
    if not entries:
        return None
    values: dict[str, Any] = {}
    sources: dict[str, SourceRef] = {}
    for spec in entries:  # least specific first, so each later entry overrides
        stated = spec.stated_controls()
        for control in stated:
            values[control] = getattr(spec, control)
        if spec.severity:  # a top-level key like the others: the most specific mapping wins whole
            values["severity"] = spec.severity
            stated = (*stated, "severity")
        for key, ref in spec.sources:
            if key in stated or (key == "name" and spec.name is not None):
                sources[key] = ref
    ordered = tuple((key, sources[key]) for key in _SOURCE_KEYS if key in sources)
    return dataclasses.replace(BucketSpec(name=bucket), **values, sources=ordered)
