"""The contract's "Judging policies exactly as AWS does", sentence by sentence.

Each case names the sentence it holds to (S1 ...) and the AWS page the behaviour comes from;
every sentence has at least one pass case (the bucket is not public / the requirement holds)
and one drift case (public / not enforced). Pages:

BPA   https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
      #access-control-block-public-access-policy-status  ("The meaning of 'public'")
PRIN  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
NOTP  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
EFF   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
ACT   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
RES   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
GRAM  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
OPS   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
MULTI https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
KEYS  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
VARS  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
AP    https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from auditor.model import PolicyDocument
from auditor.policy.document import parse_policy
from auditor.policy.evaluate import public_exposure, tls_only_check

B = "amply-storage-prod"
ARN = f"arn:aws:s3:::{B}"
OBJ = f"{ARN}/*"
ACCOUNT = "123456789012"
TLS_DENY = {"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [ARN, OBJ], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def policy(*statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(**over: Any) -> dict[str, Any]:
    """A public read statement with some elements replaced (None removes one)."""
    base: dict[str, Any] = {"Sid": "Read", "Effect": "Allow", "Principal": "*",
                            "Action": "s3:GetObject", "Resource": OBJ}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


def deny(**over: Any) -> dict[str, Any]:
    """An unconditional Deny of everything to everyone, with some elements replaced."""
    base: dict[str, Any] = {"Sid": "Lock", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                            "Resource": [ARN, OBJ]}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


def when(operator: str, key: str, value: object) -> dict[str, Any]:
    return {"Condition": {operator: {key: value}}}


@dataclass(frozen=True)
class Case:
    sentence: str
    cite: str
    name: str
    statements: list[dict[str, Any]]
    public: bool  # drift for `public_access: none` when True
    says: list[str] = field(default_factory=list)  # fragments the explanation must contain


CASES: list[Case] = []


def case(sentence: str, cite: str, name: str, statements: list[dict[str, Any]], public: bool,
         *says: str) -> None:
    CASES.append(Case(sentence, cite, name, statements, public, list(says)))


# S1 -- "A readable document is evaluated." ------------------------------------------------
case("S1", "GRAM", "a document without statements is judged, not refused", [], False)
case("S1", "GRAM", "a document with one malformed statement is judged",
     [allow(Action=None)], True, "is malformed")

# S2 -- statements S3 would refuse -------------------------------------------------------
# "never counts as a Deny"
case("S2", "EFF", 'a Deny spelt "deny" takes nothing away',
     [allow(), deny(Effect="deny")], True, 'has Effect "deny"', "reads as a Deny")
case("S2", "EFF", "a well-formed Deny takes the same grant away", [allow(), deny()], False,
     "take it away entirely")
case("S2", "ACT", "a Deny without Action takes nothing away",
     [allow(), deny(Action=None)], True, "has no Action")
# "never limits a grant"
case("S2", "PRIN", "a malformed Allow is not limited by its fixed condition",
     [allow(Principal=None, **when("StringEquals", "aws:SourceVpce", "vpce-1"))], True,
     "conditions limit nothing")
case("S2", "PRIN", "the same Allow, well-formed, is limited",
     [allow(**when("StringEquals", "aws:SourceVpce", "vpce-1"))], False, "a fixed value")
# "if it could be an Allow, it grants as widely as its elements allow"
case("S2", "PRIN", "a missing principal is everyone", [allow(Principal=None)], True,
     "no Principal")
case("S2", "ACT", "a missing Action is every action", [allow(Action=None)], True,
     "every action")
case("S2", "RES", "a missing Resource is every resource", [allow(Resource=None)], True)
case("S2", "EFF", "a missing Effect could be an Allow", [allow(Effect=None)], True,
     "has no Effect")
case("S2", "EFF", '"allow" in the wrong case could be an Allow', [allow(Effect="allow")], True)
case("S2", "PRIN", "a wildcard inside a principal ARN is everyone it matches",
     [allow(Principal={"AWS": "arn:aws:iam::*:root"})], True, "a wildcard inside a principal")
case("S2", "PRIN", "a bare-string principal grants what it names, a fixed account",
     [allow(Principal=f"arn:aws:iam::{ACCOUNT}:root")], False, "a bare string")
case("S2", "GRAM", "Statement: null grants nothing", [], False)
# "One malformed statement never hides the verdict that the well-formed ones decide."
case("S2", "GRAM", "a malformed Deny-ish neighbour does not hide a public grant",
     [allow(), {"Effect": "Deny", "Principal": "x"}], True, "Principal \"*\" lets anyone")

# S3 -- limiting conditions ----------------------------------------------------------------
_FIXED = {
    "aws:SourceIp": "192.0.2.0/24", "aws:SourceVpc": "vpc-111bbb22",
    "aws:SourceVpce": "vpce-1a2b3c4d", "aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t",
    "aws:SourceAccount": ACCOUNT, "aws:SourceOwner": ACCOUNT, "aws:SourceOrgID": "o-a1b2c3",
    "aws:SourceOrgPaths": "o-a1b2c3/r-ab12/ou-ab12-11111111/", "aws:PrincipalOrgID": "o-a1b2c3",
    "aws:PrincipalOrgPaths": "o-a1b2c3/r-ab12/", "aws:PrincipalAccount": ACCOUNT,
    "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/reader",
    "aws:PrincipalServiceName": "cloudtrail.amazonaws.com", "aws:userid": "AIDAEXAMPLE",
    "s3:DataAccessPointArn": f"arn:aws:s3:us-west-2:{ACCOUNT}:accesspoint/app",
    "s3:DataAccessPointAccount": ACCOUNT,
    "s3:x-amz-server-side-encryption-aws-kms-key-id":
        f"arn:aws:kms:us-east-1:{ACCOUNT}:key/01234567-89ab-cdef-0123-456789abcdef",
}
for _key, _value in _FIXED.items():
    _op = "IpAddress" if _key == "aws:SourceIp" else "StringEquals"
    case("S3", "BPA", f"a fixed {_key} limits the grant", [allow(**when(_op, _key, _value))],
         False, "a fixed value")
    case("S3", "BPA", f"a wildcard {_key} limits nothing",
         [allow(**when("StringLike", _key, "*"))], True)
case("S3", "KEYS", "key names are case-insensitive",
     [allow(**when("StringEquals", "AWS:SOURCEVPCE", "vpce-1"))], False)
for _op in ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
            "ForAnyValue:StringEquals"):
    case("S3", "BPA", f"{_op} of a fixed value limits",
         [allow(**when(_op, "aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:t"))], False)
case("S3", "OPS", "IfExists lets in a request without the key",
     [allow(**when("StringEqualsIfExists", "aws:SourceVpce", "vpce-1"))], True,
     "holds when aws:SourceVpce is absent")
case("S3", "MULTI", "ForAllValues holds for a request without the key",
     [allow(**when("ForAllValues:StringEquals", "aws:SourceVpce", "vpce-1"))], True,
     "ForAllValues holds")
for _op, _value in (("StringEquals", "o-*"), ("StringLike", "o-?bc"), ("ArnEquals", "o-*")):
    case("S3", "BPA", f"{_op} with a wildcard limits nothing, whatever the operator",
         [allow(**when(_op, "aws:PrincipalOrgID", _value))], True,
         f"aws:PrincipalOrgID value {_value} contains a wildcard, so it limits nothing")
case("S3", "VARS", "a policy variable is not a fixed value",
     [allow(**when("StringEquals", "aws:SourceAccount", "${aws:PrincipalAccount}"))], True,
     "is a policy variable")
case("S3", "BPA", "one wildcard value among fixed ones limits nothing",
     [allow(**when("StringEquals", "aws:SourceVpce", ["vpce-1", "vpce-*"]))], True)
case("S3", "BPA", "an access point ARN with literal region and account limits",
     [allow(**when("ArnLike", "s3:DataAccessPointArn",
                   f"arn:aws:s3:us-west-2:{ACCOUNT}:accesspoint/*"))], False)
case("S3", "BPA", "an access point ARN with a wildcard account limits nothing",
     [allow(**when("ArnLike", "s3:DataAccessPointArn", "arn:aws:s3:us-west-2:*:accesspoint/*"))],
     True)
case("S3", "BPA", "an access point ARN with a wildcard region limits nothing",
     [allow(**when("ArnLike", "s3:DataAccessPointArn",
                   f"arn:aws:s3:*:{ACCOUNT}:accesspoint/app"))], True)
case("S3", "BPA", "aws:userid of the form UNIQUEID:* limits",
     [allow(**when("StringLike", "aws:userid", "AROAEXAMPLEID:*"))], False)
case("S3", "BPA", "any other wildcard in aws:userid limits nothing",
     [allow(**when("StringLike", "aws:userid", "AROA*:*"))], True)
case("S3", "BPA", "a /8 IPv4 range limits", [allow(**when("IpAddress", "aws:SourceIp",
                                                          "10.0.0.0/8"))], False)
case("S3", "BPA", "a range broader than /8 limits nothing",
     [allow(**when("IpAddress", "aws:SourceIp", "0.0.0.0/1"))], True, "broader than /8")
case("S3", "BPA", "a /32 IPv6 range limits",
     [allow(**when("IpAddress", "aws:SourceIp", "2001:db8::/32"))], False)
case("S3", "BPA", "an IPv6 range broader than /32 limits nothing",
     [allow(**when("IpAddress", "aws:SourceIp", "2001::/16"))], True, "broader than /32")
for _op, _key, _value, _why in (
    ("StringEquals", "aws:username", "bob", "friendly name"),
    ("StringLike", "aws:Referer", "https://example.com/", "HTTP header"),
    ("StringEquals", "aws:UserAgent", "app/1.0", "HTTP header"),
    ("Null", "aws:SourceVpce", "false", "Null only tests"),
    ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", "not a key that limits"),
    ("NumericLessThan", "aws:MultiFactorAuthAge", "3600", "not a key that limits"),
    ("StringNotEquals", "aws:SourceVpce", "vpce-1", "a negated test"),
    ("NotIpAddress", "aws:SourceIp", "192.0.2.0/24", "a negated test"),
):
    case("S3", "KEYS" if "aws:" in _key and _op.startswith("String") else "OPS",
         f"{_op} {_key} never limits", [allow(**when(_op, _key, _value))], True, _why)

# S4 -- public principals ------------------------------------------------------------------
for _principal, _name in (("*", 'bare "*"'), ({"AWS": "*"}, 'AWS "*"'),
                          ({"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]}, 'a list with "*"'),
                          ({"Federated": "graph.facebook.com"}, "a Federated provider"),
                          ({"Federated": "cognito-identity.amazonaws.com"}, "Cognito"),
                          ({"AWS": "arn:aws:iam::*:root"}, "a wildcard account"),
                          ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-?"}, "a ? in a role"),
                          ({"CanonicalUser": "*"}, "a wildcard canonical user")):
    case("S4", "PRIN", f"{_name} is public", [allow(Principal=_principal)], True)
case("S4", "NOTP", "NotPrincipal in an Allow is public",
     [allow(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})], True,
     "NotPrincipal on an Allow")
for _principal, _name in (({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "an account"),
                          ({"AWS": "444455556666"}, "a bare account id"),
                          ({"Service": "logging.s3.amazonaws.com"}, "a service"),
                          ({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}, "a canonical id")):
    case("S4", "PRIN", f"{_name} is a fixed principal, not public", [allow(Principal=_principal)],
         False)

# S5 -- Denies that take access away -----------------------------------------------------
case("S5", "BPA", "an unconditional Deny to everyone cancels", [allow(), deny()], False,
     "statement 'Lock': it denies everyone unconditionally")
for _op in ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike",
            "StringNotEqualsIfExists", "ArnNotLikeIfExists"):
    case("S5", "OPS", f"a Deny under {_op} of a fixed limiting key cancels",
         [allow(), deny(**when(_op, "aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:t"))],
         False, "unless aws:SourceArn is")
for _op in ("NotIpAddress", "NotIpAddressIfExists"):
    case("S5", "OPS", f"a Deny under {_op} of a fixed range cancels",
         [allow(), deny(**when(_op, "aws:SourceIp", "192.0.2.0/24"))], False)
case("S5", "NOTP", "a Deny with a NotPrincipal of fixed principals cancels",
     [allow(), deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
     False, "everyone except AWS")
case("S5", "NOTP", "a Deny whose NotPrincipal spares a wildcard cancels nothing",
     [allow(), deny(Principal=None, NotPrincipal={"AWS": "*"})], True, "does not take")
case("S5", "OPS", "a Deny under a positive test may miss an outsider",
     [allow(), deny(**when("StringEquals", "aws:SourceVpce", "vpce-1"))], True,
     "not a plain negated test")
case("S5", "OPS", "a Deny under a negated test of a non-limiting key may miss an outsider",
     [allow(), deny(**when("StringNotLike", "aws:Referer", "https://example.com/*"))], True)
case("S5", "OPS", "a Deny under a negated test of a wildcard value may miss an outsider",
     [allow(), deny(**when("StringNotLike", "aws:SourceVpce", "vpce-*"))], True,
     "contains a wildcard")
case("S5", "MULTI", "a Deny under ForAnyValue:StringNotEquals may miss an outsider",
     [allow(), deny(**when("ForAnyValue:StringNotEquals", "aws:SourceVpce", "vpce-1"))], True)
case("S5", "BPA", "a Deny to one account takes nothing from everyone else",
     [allow(), deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})], True, "applies only to")
case("S5", "BPA", "a Deny of some objects leaves the rest public",
     [allow(), deny(Resource=f"{ARN}/private/*")], True, "take part of")
case("S5", "AP", "AWS's access-point delegation (s3:DataAccessPointAccount fixed) is not public",
     [allow(Principal={"AWS": "*"}, Action="*", Resource=[ARN, OBJ],
            **when("StringEquals", "s3:DataAccessPointAccount", ACCOUNT))], False)
case("S5", "AP", "delegation as Allow-all plus a Deny outside the account's access points",
     [allow(Action="*", Resource=[ARN, OBJ]),
      deny(**when("StringNotEquals", "s3:DataAccessPointAccount", ACCOUNT))], False)


@pytest.mark.parametrize("c", [pytest.param(c, id=f"{c.sentence} {'drift' if c.public else 'pass'}"
                                               f": {c.name} [{c.cite}]") for c in CASES])
def test_contract_sentence(c: Case) -> None:
    doc = policy(*c.statements) if c.statements else parse_policy('{"Statement": null}')
    exposure = public_exposure(doc, B, ACCOUNT)
    assert exposure.public is c.public, exposure.explanation
    text = " | ".join(exposure.explanation + tuple(g.reason for g in exposure.cancelled))
    for fragment in c.says:
        assert fragment in text, text


def test_every_sentence_has_a_pass_and_a_drift_case() -> None:
    seen: dict[str, set[bool]] = defaultdict(set)
    for c in CASES:
        seen[c.sentence].add(c.public)
    assert set(seen) == {"S1", "S2", "S3", "S4", "S5"}
    assert all(v == {True, False} for v in seen.values()), dict(seen)


# --------------------------------------------------------------------------- tls_only


def test_a_malformed_tls_deny_never_satisfies_tls_only() -> None:
    # S2 "never satisfies a requirement" [EFF]: "The Effect value is case sensitive."
    verdict = tls_only_check(policy({**TLS_DENY, "Effect": "deny"}), B)
    assert not verdict.enforced
    assert any("statement 'TLS' is malformed" in g for g in verdict.gaps)


def test_a_malformed_neighbour_never_hides_a_complete_tls_deny_and_is_named_on_a_pass() -> None:
    # S2 "One malformed statement never hides the verdict" and "names each such statement,
    # on a pass too" [GRAM].
    verdict = tls_only_check(policy(TLS_DENY, allow(Action=None)), B)
    assert verdict.enforced and verdict.enforced_by == ("statement 'TLS'",)
    assert any("statement 'Read' is malformed" in n for n in verdict.explanation)


def test_a_public_pass_names_the_malformed_statements() -> None:
    exposure = public_exposure(policy(deny(Effect="DENY")), B, ACCOUNT)
    assert not exposure.public
    assert any("statement 'Lock' is malformed" in n for n in exposure.notes)
