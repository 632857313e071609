"""The control registry's types: a control is one module carrying everything about one spec key.

A `Control` holds its identity (key, scope, rule id, title, default severity, docs), what it
reads (facets), its spec side (JSON Schema fragment, builder, lint), its verdict (`check`), how
`init` derives it from live state, how `import` maps it from CloudFormation, the AWS write that
would set it (`put_requests`: data that `demo` executes and remediation renders) and the KMS
key references it needs resolved. Every layer iterates `auditor.controls.CONTROLS`; none names
a control. A part a control cannot have is `None`, with the reason in `why_not`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from auditor.cfn.values import CfnBucket, Origin
from auditor.errors import SpecProblem
from auditor.model import Facet, ObjectQuery, Outcome, Scope, Severity

ID_PATTERN = re.compile(r"^S3-[A-Z]{3}-\d{3}$")
# The optional parts of a control; each is set or explained in `why_not`.
PARTS = ("derive", "cfn", "put_requests", "kms_refs")


@dataclass(frozen=True, slots=True)
class Ref:
    """What a check may know about its subject besides the facets: bucket name (or account
    id), the account, and the region (the spec's region for a bucket that does not exist)."""

    name: str
    account_id: str
    region: str | None


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def kebab(name: str) -> str:
    """PutBucketCors -> put-bucket-cors, CORSConfiguration -> cors-configuration."""
    return "-".join(w.lower() for w in _WORD.findall(name))


@dataclass(frozen=True, slots=True)
class Request:
    """One AWS write, as data: `demo` performs it, remediation renders it as an `aws` command."""

    service: str  # boto3 service name: "s3", "s3control"
    operation: str  # API operation: "PutBucketVersioning"
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The boto3 client method: put_bucket_versioning."""
        return kebab(self.operation).replace("-", "_")


class Locator(Protocol):
    """Where a spec entry's keys are, for lint messages on the right line."""

    def problem(self, keys: Sequence[str | int], message: str, level: str = "error") -> SpecProblem:
        """A problem at `keys` below the entry."""

    def position(self, keys: Sequence[str | int]) -> tuple[int, int]:
        """(line, column) where `keys` below the entry is written."""


# (the spec value as plain data, or None when nothing can be stated; a comment, or None)
Derived = tuple[object | None, str | None]
Check = Callable[..., Outcome]  # check(want, ref, *facet values in the order of `reads`)
Fix = Callable[..., str | None]  # fix(ref, want, *facet values) -> a command, None = default
Lint = Callable[[Locator, Any, Mapping[str, Any]], Iterator[SpecProblem]]


@dataclass(frozen=True, slots=True)
class CfnImport:
    """How `import` fills this control's key: `convert(bucket, entry)` returns the spec value
    (or None) from the bucket's properties; `entry` holds the keys already imported."""

    convert: Callable[[CfnBucket, Mapping[str, Any]], object | None]
    properties: tuple[str, ...] = ()  # the CloudFormation properties read, for docs

    @classmethod
    def prop(cls, name: str, read: Callable[[Any, str, Origin], object | None]) -> CfnImport:
        """Import one property: not set -> None; else read(raw, name, origin), or None with a
        warning where the value cannot be imported."""

        def convert(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
            raw = bucket.prop(name)
            return None if raw is None else bucket.origin.attempt(read, raw, name, bucket.origin)

        return cls(convert, (name,))


@dataclass(frozen=True, slots=True)
class Control:
    key: str
    id: str
    title: str
    severity: Severity
    check: Check
    reads: tuple[Facet, ...] = ()
    scope: Scope = Scope.BUCKET
    schema: Mapping[str, Any] | None = None  # the spec key's JSON Schema; None = implicit
    defs: Mapping[str, Any] = field(default_factory=dict)  # shared $defs the schema refers to
    build: Callable[[Any], Any] | None = None  # schema-valid raw value -> the check's `want`
    lint: Lint | None = None
    derive: Callable[..., Derived] | None = None  # derive(ref, *facet values) for `init`
    cfn: CfnImport | None = None
    put_requests: Callable[[Ref, Any], tuple[Request, ...]] | None = None
    fix: Fix | None = None  # a remediation that depends on the live state
    remediation: str | None = None  # shown in docs; default: put_requests rendered for `example`
    kms_refs: Callable[[Any], tuple[str, ...]] | None = None
    # What the objects facet must read for this control's spec value (keys, sampled prefixes).
    object_queries: Callable[[Any], tuple[ObjectQuery, ...]] | None = None
    # The key an entry states this control under, when it is not `key` (a principal entry
    # states `s3_access:`; its results are control `principals`).
    stated_as: str | None = None
    example: object = None  # a spec value, for docs and meta-tests
    references: tuple[str, ...] = ()
    why_not: Mapping[str, str] = field(default_factory=dict)  # optional part -> why it is None

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()

    @property
    def spec_key(self) -> str:
        """The key a spec entry states this control under."""
        return self.stated_as or self.key

    @property
    def implicit(self) -> bool:
        """`exists` and `managed`: judged for every bucket, never stated in a spec."""
        return self.schema is None

    def want(self, raw: Any) -> Any:
        """The built spec value the check compares against."""
        return raw if self.build is None else self.build(raw)


def validate(control: Control) -> None:
    """Refuse a malformed control (called once for the registry)."""
    if not ID_PATTERN.match(control.id):
        raise ValueError(f"control id {control.id!r} does not match {ID_PATTERN.pattern}")
    if len(control.title) > 80 or control.title.lower().startswith("ensure"):
        raise ValueError(f"{control.id}: title must be <= 80 chars and not start with 'Ensure'")
    for part in PARTS:
        if getattr(control, part) is None and not control.why_not.get(part):
            raise ValueError(f"{control.key}: has no {part} and does not say why (why_not)")
