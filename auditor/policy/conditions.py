"""What one condition test does: does it limit a grant, does it exempt outsiders from a Deny.

Pure. The rules are those of the S3 Block Public Access page "The meaning of 'public'"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
#access-control-block-public-access-policy-status), as the contract's "Judging policies exactly
as AWS does" spells them out: a grant is limited only by a positive test of one of a fixed list
of keys, every value of which is fixed (no wildcard, no policy variable).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.model import Condition
from auditor.policy.globs import absent_truth, parse_operator, present_truth

# The keys whose fixed values make a grant non-public (key names are case-insensitive).
_LIMITING = (
    "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceArn", "aws:SourceAccount",
    "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalServiceName", "aws:userid", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
)
KEY_NAMES = {k.lower(): k for k in (
    *_LIMITING, "aws:SecureTransport", "s3:TlsVersion", "aws:Referer", "aws:UserAgent",
    "aws:username", "aws:CurrentTime", "aws:MultiFactorAuthAge", "aws:PrincipalIsAWSService",
)}
LIMITING_KEYS = frozenset(k.lower() for k in _LIMITING)
POSITIVE = frozenset({
    "stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress",
})
# The negated tests through which a Deny still applies to every outsider.
NEGATED = frozenset({"stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike",
                     "notipaddress"})
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
_OPERATORS = frozenset({
    "stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase",
    "stringlike", "stringnotlike", "numericequals", "numericnotequals", "numericlessthan",
    "numericlessthanequals", "numericgreaterthan", "numericgreaterthanequals", "dateequals",
    "datenotequals", "datelessthan", "datelessthanequals", "dategreaterthan",
    "dategreaterthanequals", "bool", "binaryequals", "ipaddress", "notipaddress", "arnequals",
    "arnlike", "arnnotequals", "arnnotlike", "null",
})
_QUALIFIERS = frozenset({"", "forallvalues", "foranyvalue"})
_REASONS = {
    "aws:referer": "aws:Referer is an HTTP header the caller chooses",
    "aws:useragent": "aws:UserAgent is an HTTP header the caller chooses",
    "aws:username": "aws:username is a friendly name that users of any account can have",
}
_SYMBOLS = {"numericlessthan": "<", "numericlessthanequals": "<=", "numericgreaterthan": ">",
            "numericgreaterthanequals": ">=", "numericequals": "=", "numericnotequals": "!=",
            "bool": "=", "stringequals": "="}


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether a condition does what was asked of it, and one clause saying why."""

    holds: bool
    why: str


def operator_problem(operator: str) -> str | None:
    """Why IAM would refuse this condition operator, or None when it is a real one."""
    op = parse_operator(operator)
    if op.qualifier not in _QUALIFIERS:
        return f"{operator.split(':')[0]}: is not ForAllValues: or ForAnyValue:"
    if op.base not in _OPERATORS:
        return "no such condition operator"
    if op.base == "null" and op.if_exists:
        return "Null cannot take IfExists"
    return None


def key_name(cond: Condition) -> str:
    """The key as people know it: "aws:SourceVpce" for "aws:sourcevpce"."""
    return KEY_NAMES.get(cond.key, cond.name)


def render_condition(cond: Condition) -> str:
    """A condition as people read it, e.g. "s3:TlsVersion < 1.2"."""
    values = " or ".join(cond.values)
    symbol = _SYMBOLS.get(cond.operator.lower())
    key = key_name(cond)
    return f"{key} {symbol} {values}" if symbol else f"{cond.operator} {key} {values}"


# --------------------------------------------------------------------------- fixed values


def unfixed(key: str, value: str) -> str | None:
    """Why one condition value is not fixed, or None when it is."""
    if key == "aws:sourceip":
        return _broad_network(value)
    if "${" in value:
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        return "is a policy variable"
    if not any(w in value for w in ("*", "?")):
        return None
    if key == "s3:dataaccesspointarn" and _access_point_arn_fixed(value):
        return None  # AWS: a wildcard for the access point name keeps the policy non-public
    if key == "aws:userid" and _userid_fixed(value):
        return None  # AWS: aws:userid of the form UNIQUEID:* (a role's sessions) is fixed
    return "contains a wildcard"


def _broad_network(value: str) -> str | None:
    # "values broader than /8 for IPv4 and /32 for IPv6" are public (The meaning of "public").
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "is not an IP address or CIDR range"
    floor = 8 if net.version == 4 else 32
    if net.prefixlen < floor:
        return f"is broader than /{floor}"
    return None


def _access_point_arn_fixed(value: str) -> bool:
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    return all(part and not _wild(part) for part in parts[1:5])  # partition ... account literal


def _userid_fixed(value: str) -> bool:
    unique, sep, rest = value.partition(":")
    return bool(unique) and sep == ":" and rest == "*" and not _wild(unique)


def _wild(text: str) -> bool:
    return any(w in text for w in ("*", "?", "${"))


def _first_unfixed(cond: Condition) -> str | None:
    for value in cond.values:
        why = unfixed(cond.key, value)
        if why:
            return f"{key_name(cond)} value {value} {why}"
    return None


# --------------------------------------------------------------------------- judgements


def limits(cond: Condition) -> Judgement:
    """Does this condition keep an anonymous outsider from using the grant it sits in?"""
    key, op = key_name(cond), parse_operator(cond.operator)
    if cond.key not in LIMITING_KEYS:
        reason = _REASONS.get(cond.key, f"{key} is not a key that limits who can use a grant")
        return Judgement(False, f"{reason}, so it limits nothing")
    if op.base == "null":
        return Judgement(False, f"Null only tests whether {key} is present, so it limits nothing")
    if op.base not in POSITIVE:
        kind = "a negated test" if "not" in op.base else "not a string, ARN or IP match"
        return Judgement(False, f"{cond.operator} on {key} is {kind}, so it limits nothing")
    if op.if_exists:
        return Judgement(False, f"{cond.operator} holds when {key} is absent, as it is from an "
                                "anonymous request, so it limits nothing")
    if op.qualifier == "forallvalues":
        return Judgement(False, f"ForAllValues holds when {key} is absent, as it is from an "
                                "anonymous request, so it limits nothing")
    if not cond.values:
        return Judgement(False, f"{key} has no values, so it limits nothing")
    why = _first_unfixed(cond)
    if why:
        return Judgement(False, f"{why}, so it limits nothing")
    return Judgement(True, f"{key} must be {' or '.join(cond.values)}, a fixed value that keeps "
                           "outsiders out")


def excludes(cond: Condition) -> Judgement:
    """In a Deny: does this test hold for every anonymous outsider (so the Deny still applies)?"""
    key, op = key_name(cond), parse_operator(cond.operator)
    if cond.key not in LIMITING_KEYS:
        reason = _REASONS.get(cond.key, f"{key} is not a key that tells outsiders apart")
        return Judgement(False, f"{reason}, so an outsider may escape the Deny")
    if op.base not in NEGATED or op.qualifier:
        return Judgement(False, f"{cond.operator} on {key} is not a plain negated test, so an "
                                "outsider may escape the Deny")
    if not cond.values:
        return Judgement(False, f"{key} has no values, so an outsider may escape the Deny")
    why = _first_unfixed(cond)
    if why:
        return Judgement(False, f"{why}, so an outsider may escape the Deny")
    return Judgement(True, f"unless {key} is {' or '.join(cond.values)}")


# --------------------------------------------------------------------------- request contexts

Context = Mapping[str, str | None]  # key -> its value, or None when absent from the request


def truth(cond: Condition, context: Context) -> bool | None:
    """True/False when the condition surely holds/fails for the request; None when unknown."""
    if cond.key not in context:
        return None
    op, actual = parse_operator(cond.operator), context[cond.key]
    if actual is None:
        return absent_truth(op, cond.values)
    if op.base.startswith("numeric"):
        return _numeric(op.base, op.negated, actual, cond.values)
    return present_truth(op, actual, cond.values)


def _numeric(base: str, negated: bool, actual: str, values: Sequence[str]) -> bool | None:
    try:
        have, wants = float(actual), [float(v) for v in values]
    except ValueError:
        return None
    tests = {
        "numericequals": have.__eq__, "numericnotequals": have.__eq__,
        "numericlessthan": have.__lt__, "numericlessthanequals": have.__le__,
        "numericgreaterthan": have.__gt__, "numericgreaterthanequals": have.__ge__,
    }
    test = tests.get(base)
    if test is None:
        return None
    hit = any(test(w) for w in wants)
    # Values of one key are ORed; for NumericNotEquals the match is the negation.
    return not hit if negated else hit
