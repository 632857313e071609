"""The rule registry: each rule is a small pure function plus declarative metadata."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor.model import Facet, Outcome, Severity

ID_PATTERN = re.compile(r"^S3-[A-Z]{3}-\d{3}$")


@dataclass(frozen=True, slots=True)
class BucketRef:
    """What a rule may know about the bucket besides its facets."""

    name: str
    account_id: str
    region: str | None


# check(want, bucket, *facet values) -> Outcome; facet values in the order of `reads`.
Check = Callable[..., Outcome]
# fix(bucket, want, *facet values) -> a concrete remediation command for this bucket.
Fix = Callable[..., str]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    control: str
    title: str
    severity: Severity
    reads: tuple[Facet, ...]
    remediation: str
    references: tuple[str, ...]
    check: Check
    fix: Fix | None = None

    @property
    def doc(self) -> str:
        return (self.check.__doc__ or "").strip()

    def remediation_for(self, bucket: BucketRef, want: Any, facets: tuple[Any, ...]) -> str:
        """The remediation command for this bucket: the rule's fix, else its template filled in."""
        if self.fix is not None:
            return self.fix(bucket, want, *facets)
        return self.remediation.format(bucket=bucket.name, expected=want, region=bucket.region)


RULES: dict[str, Rule] = {}


def rule(
    *,
    id: str,
    control: str,
    title: str,
    severity: Severity,
    reads: tuple[Facet, ...],
    remediation: str,
    references: tuple[str, ...] = (),
    fix: Fix | None = None,
) -> Callable[[Check], Check]:
    """Register a rule; refuses malformed or duplicate ids and a second rule for one control."""

    def register(check: Check) -> Check:
        if not ID_PATTERN.match(id):
            raise ValueError(f"rule id {id!r} does not match {ID_PATTERN.pattern}")
        if id in RULES:
            raise ValueError(f"duplicate rule id {id}")
        if any(r.control == control for r in RULES.values()):
            raise ValueError(f"control {control!r} already has a rule")
        if len(title) > 80 or title.lower().startswith("ensure"):
            raise ValueError(f"{id}: title must be <= 80 chars and not start with 'Ensure'")
        RULES[id] = Rule(id, control, title, severity, reads, remediation, references, check, fix)
        return check

    return register


def by_control() -> dict[str, Rule]:
    """Rules keyed by the control they judge."""
    return {r.control: r for r in RULES.values()}
