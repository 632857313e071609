"""Every control, in report order: the one place a control lives is its module here.

Listed explicitly (no import-time registration), so the order is visible and stable: it is
the order of the bucket x control matrix, of `s3audit rules` and of a spec's keys in `init`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.controls import (
    access_points,
    account_public_access_block,
    alarms,
    cors,
    cross_account,
    data_events,
    encryption,
    exists,
    lifecycle,
    logging,
    managed,
    mfa_delete,
    min_tls_version,
    notifications,
    object_acls,
    object_lock,
    objects,
    ownership,
    principals,
    public_access,
    public_access_block,
    region,
    replication,
    request_metrics,
    tags,
    tls_only,
    versioning,
    website,
)
from auditor.controls._commands import commands
from auditor.controls.registry import Control, Ref, Request, validate
from auditor.model import Scope

__all__ = ["CONTROLS", "Control", "Ref", "Request", "by_id", "control", "example_remediation",
           "find", "keys",
           "remediation", "requests", "stated_controls"]

CONTROLS: tuple[Control, ...] = tuple(m.CONTROL for m in (
    exists, managed, region, versioning, encryption, public_access_block, ownership, object_acls,
    public_access, tls_only, min_tls_version, cross_account, lifecycle, cors, website, logging,
    object_lock, mfa_delete, replication, tags, notifications, access_points,
    request_metrics, data_events, objects, alarms,
    account_public_access_block,
    principals,
))


def _check_registry() -> None:
    seen: set[tuple[Scope, str]] = set()
    ids: set[str] = set()
    for c in CONTROLS:
        validate(c)
        if (c.scope, c.key) in seen or c.id in ids:
            raise ValueError(f"duplicate control {c.scope.value}:{c.key} or id {c.id}")
        seen.add((c.scope, c.key))
        ids.add(c.id)


_check_registry()
_BY_KEY = {(c.scope, c.key): c for c in CONTROLS}
_BY_ID = {c.id: c for c in CONTROLS}


def control(key: str, scope: Scope = Scope.BUCKET) -> Control:
    """The control of a spec key at a scope; KeyError when there is none."""
    return _BY_KEY[scope, key]


def by_id(rule_id: str) -> Control | None:
    return _BY_ID.get(rule_id.upper())


def find(name: str) -> Control | None:
    """A control by rule id (any case) or by spec key (bucket scope first)."""
    found = by_id(name)
    if found is not None:
        return found
    return (_BY_KEY.get((Scope.BUCKET, name)) or _BY_KEY.get((Scope.ACCOUNT, name))
            or _BY_KEY.get((Scope.PRINCIPAL, name)))


def stated_controls(scope: Scope) -> Iterator[Control]:
    """The controls a spec entry of this scope can state (implicit ones excluded)."""
    return (c for c in CONTROLS if c.scope is scope and not c.implicit)


def keys(scope: Scope | None = None, implicit: bool = True) -> tuple[str, ...]:
    """Control keys in registry order (each once), of one scope or all."""
    found = (c.key for c in CONTROLS
             if (scope is None or c.scope is scope) and (implicit or not c.implicit))
    return tuple(dict.fromkeys(found))


def remediation(c: Control, ref: Ref, want: Any, facets: tuple[Any, ...]) -> str | None:
    """The command that would bring the subject to `want`: the control's live-aware fix, else
    its put requests rendered, else its documented text."""
    if c.fix is not None:
        text = c.fix(ref, want, *facets)
        if text is not None:
            return text
    if c.put_requests is not None:
        rendered = commands(c.put_requests(ref, want))
        if rendered is not None:
            return rendered
    if c.remediation is not None:
        return c.remediation.format(bucket=ref.name, expected=want, region=ref.region)
    return None


EXAMPLE_BUCKET = "amzn-s3-demo-bucket"  # AWS's own placeholder name in its documentation
EXAMPLE_ACCOUNT = "111122223333"


def example_remediation(c: Control) -> str:
    """The remediation for the control's example value on a placeholder bucket or account."""
    name = EXAMPLE_BUCKET if c.scope is Scope.BUCKET else EXAMPLE_ACCOUNT
    ref = Ref(name, EXAMPLE_ACCOUNT, "eu-central-1")
    # With no live state known, a live-aware fix falls back to the plain write.
    return remediation(c, ref, c.want(c.example), tuple(None for _ in c.reads)) or "(none)"


def requests(c: Control, ref: Ref, want: Any) -> tuple[Request, ...]:
    """The AWS writes that set `want` on a new subject (what `demo` performs)."""
    return () if c.put_requests is None else c.put_requests(ref, want)
