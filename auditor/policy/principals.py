"""Who a statement names: public principals, fixed principals, and the accounts behind them.

Public principals, per the contract and "The meaning of 'public'": "*", {"AWS": "*"}, a list
containing "*", NotPrincipal in an Allow, any Federated principal, and any principal value
containing a wildcard. "For resource-based policies, using a wildcard (*) with an Allow effect
grants access to all users, including anonymous users (public access)."
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.model import Principal, Statement

_ACCOUNT = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:(?:iam|sts)::([^:]*):")


@dataclass(frozen=True, slots=True)
class Grantee:
    """Whom an Allow statement grants to, as the evaluator reads it."""

    public: bool
    who: str  # a phrase that takes a verb: 'Principal "*" lets anyone'
    named: tuple[tuple[str, str], ...] = ()  # the fixed (type, id) pairs when not public


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def grantee(st: Statement) -> Grantee:
    """Who may use an Allow (or a malformed statement read as one)."""
    if st.not_principal is not None:
        return Grantee(True, "NotPrincipal on an Allow lets everyone it does not list")
    if st.principal is None:
        return Grantee(True, "with no Principal, this malformed statement is read as letting "
                             "anyone")
    return _named(st.principal)


def _named(principal: Principal) -> Grantee:
    if principal.wildcard:
        return Grantee(True, 'Principal "*" lets anyone')
    for kind, value in principal.entries:
        if value == "*":
            shown = f'{{"{kind}": "*"}}'
            return Grantee(True, f"Principal {shown} lets any caller")
    for kind, value in principal.entries:
        if kind == "Federated":
            return Grantee(True, f"Federated principal {value} lets any user of that identity "
                                 "provider")
        if _wild(value):
            return Grantee(True, f"principal {value} contains a wildcard, which lets any "
                                 "matching caller")
    return Grantee(False, f"{describe(principal)} may", principal.entries)


def describe(principal: Principal | None) -> str:
    """The principals named, as people read them: "AWS arn:aws:iam::1:root, Service x"."""
    if principal is None:
        return "nobody"
    if principal.wildcard:
        return '"*"'
    return ", ".join(f"{kind} {value}" for kind, value in principal.entries) or "nobody"


def everyone(principal: Principal | None) -> bool:
    """True for "*" and {"AWS": "*"}: every principal, anonymous callers included."""
    return principal is not None and (principal.wildcard or ("AWS", "*") in principal.entries)


def fixed_only(principal: Principal | None) -> bool:
    """True when every principal named is a fixed one (no wildcard, no Federated provider)."""
    if principal is None or principal.wildcard or not principal.entries:
        return False
    return not any(kind == "Federated" or _wild(value) for kind, value in principal.entries)


def account_of(kind: str, value: str) -> str | None:
    """The AWS account a principal belongs to, or None when it cannot be told (a service,
    a canonical user id, the legacy CloudFront origin access identity)."""
    if kind != "AWS":
        return None
    if _ACCOUNT.match(value):
        return value
    match = _ARN_ACCOUNT.match(value)
    if match and _ACCOUNT.match(match.group(1)):
        return match.group(1)
    return None
