"""min_tls_version and cross_account, from the contract's "More controls", judged by the same
policy reading as tls_only and public_access.

TLS   https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
      #example-object-tls-version  (s3:TlsVersion with NumericLessThan 1.2)
DEPUTY https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
OAC   https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
      private-content-restricting-access-to-s3.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from auditor.model import PolicyDocument
from auditor.policy.document import parse_policy
from auditor.policy.evaluate import Allowance, cross_account_check, min_tls_check

B = "amply-storage-prod"
ARN = f"arn:aws:s3:::{B}"
OBJ = f"{ARN}/*"
OWN = "123456789012"
OTHER = "444455556666"
DIST = f"arn:aws:cloudfront::{OWN}:distribution/E2EXAMPLE"


def policy(*statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def tls_deny(condition: dict[str, Any] | None, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Sid": "MinTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                            "Resource": [ARN, OBJ], "Condition": condition}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


# --------------------------------------------------------------------------- min_tls_version

LESS_THAN_12 = {"NumericLessThan": {"s3:TlsVersion": 1.2}}

MIN_TLS = [
    pytest.param([tls_deny(LESS_THAN_12)], "1.2", True, [], id="pass: AWS's Deny below 1.2"),
    pytest.param([tls_deny({"NumericLessThan": {"s3:TlsVersion": "1.3"}})], "1.2", True, [],
                 id="pass: a Deny below a higher version passes too"),
    pytest.param([tls_deny({"NumericLessThanEquals": {"s3:TlsVersion": "1.1"}})], "1.2", True, [],
                 id="pass: at most 1.1 is below 1.2"),
    pytest.param([tls_deny({"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}})], "1.2", True,
                 [], id="pass: IfExists changes nothing when the key is present"),
    pytest.param([tls_deny({"StringEquals": {"s3:TlsVersion": ["1.0", "1.1"]}})], "1.2", True, [],
                 id="pass: naming every version below"),
    pytest.param([tls_deny(None)], "1.2", True, [], id="pass: an unconditional Deny of all"),
    pytest.param([tls_deny(LESS_THAN_12, Resource=ARN), tls_deny(LESS_THAN_12, Sid="O",
                                                                  Resource=OBJ)],
                 "1.2", True, [], id="pass: split bucket and object statements"),
    pytest.param([tls_deny({"NumericLessThan": {"s3:TlsVersion": "1.1"}})], "1.2", False,
                 ["TLS 1.1", "never meets"], id="drift: a Deny below 1.1 misses TLS 1.1"),
    pytest.param([tls_deny(LESS_THAN_12, Action="s3:PutObject")], "1.2", False,
                 ["covers only s3:PutObject"], id="drift: AWS's PutObject-only example"),
    pytest.param([tls_deny(LESS_THAN_12)], "1.3", False, ["TLS 1.2"],
                 id="drift: a Deny below 1.2 is not one below 1.3"),
    pytest.param([tls_deny({**LESS_THAN_12, "StringNotEquals": {"aws:SourceVpce": "vpce-1"}})],
                 "1.2", False, ["also requires"], id="drift: a statement that ANDs another key"),
    pytest.param([tls_deny({"Bool": {"aws:SecureTransport": "false"}})], "1.2", False,
                 ["also requires aws:SecureTransport = false"],
                 id="drift: the plain-HTTP Deny is not a TLS-version Deny"),
    pytest.param([tls_deny({"NumericGreaterThan": {"s3:TlsVersion": 1.1}}, Effect="Allow")],
                 "1.2", False, ["is an Allow"], id="drift: AWS's Allow above 1.1"),
    pytest.param([tls_deny(LESS_THAN_12, Effect="deny")], "1.2", False,
                 ["statement 'MinTls' is malformed"], id="drift: a malformed Deny never counts"),
    pytest.param([tls_deny(LESS_THAN_12, Principal={"AWS": f"arn:aws:iam::{OWN}:root"})], "1.2",
                 False, ["applies only to"], id="drift: a Deny for one account"),
]


@pytest.mark.parametrize(("statements", "version", "enforced", "says"), MIN_TLS)
def test_min_tls_version(statements: list[dict[str, Any]], version: str, enforced: bool,
                         says: list[str]) -> None:
    verdict = min_tls_check(policy(*statements), B, version)
    assert verdict.enforced is enforced, verdict
    text = " | ".join(verdict.explanation)
    assert all(fragment in text for fragment in says), text


def test_min_tls_without_a_policy_drifts() -> None:
    verdict = min_tls_check(None, B, "1.2")
    assert not verdict.enforced and "no bucket policy" in verdict.gaps[0]


def test_min_tls_refuses_a_version_that_is_not_a_number() -> None:
    with pytest.raises(ValueError, match="not a TLS version"):
        min_tls_check(None, B, "TLSv1.2")


def test_min_tls_at_the_lowest_version_has_nothing_to_deny() -> None:
    verdict = min_tls_check(None, B, "1.0")
    assert verdict.enforced and verdict.notes


# --------------------------------------------------------------------------- cross_account


def grant(principal: Any, condition: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Sid": "Share", "Effect": "Allow", "Principal": principal,
                            "Action": "s3:GetObject", "Resource": OBJ, "Condition": condition}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


ORGS = Allowance(org_ids=frozenset({"o-a1b2c3"}))
LOGGING = Allowance(services=frozenset({"logging.s3.amazonaws.com"}))
CLOUDFRONT = Allowance(services=frozenset({"cloudfront.amazonaws.com"}),
                       source_arns=frozenset({DIST}))
SOURCE_OWN = {"StringEquals": {"aws:SourceAccount": OWN}}

CROSS = [
    pytest.param([grant({"AWS": f"arn:aws:iam::{OWN}:root"})], None, True, [],
                 id="pass: the bucket's own account"),
    pytest.param([grant({"AWS": f"arn:aws:iam::{OWN}:role/reader"})], None, True, [],
                 id="pass: a role of the bucket's own account"),
    pytest.param([grant({"AWS": f"arn:aws:iam::{OTHER}:root"})], None, False,
                 [f"account {OTHER} is outside the bucket's account"], id="drift: another account"),
    pytest.param([grant({"AWS": OTHER})], Allowance(accounts=frozenset({OTHER})), True,
                 ["in allowed_accounts"], id="pass: an allowed account"),
    pytest.param([grant("*")], None, False, ['Principal "*" lets anyone'], id="drift: everyone"),
    pytest.param([grant({"AWS": "*"}, {"StringEquals": {"aws:PrincipalAccount": OWN}})], None,
                 True, ["confines it"], id="pass: everyone confined to the own account"),
    pytest.param([grant({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3"}})],
                 None, False, ["limits it, but not to"], id="drift: an organization not allowed"),
    pytest.param([grant({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3"}})],
                 ORGS, True, [], id="pass: an allowed organization"),
    pytest.param([grant({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-*"}})], ORGS,
                 False, ["contains a wildcard"], id="drift: a wildcard organization"),
    pytest.param([grant("*", {"StringEquals": {"aws:SourceVpce": "vpce-1"}})], None, False,
                 ["aws:SourceVpce limits it, but not to"],
                 id="drift: a network limit does not limit the caller's account"),
    pytest.param([grant({"Service": "logging.s3.amazonaws.com"}, SOURCE_OWN,
                        Action="s3:PutObject")], None, False, ["not in allowed_services"],
                 id="drift: a service principal under cross_account none"),
    pytest.param([grant({"Service": "logging.s3.amazonaws.com"}, SOURCE_OWN,
                        Action="s3:PutObject")], LOGGING, True, ["in allowed_services"],
                 id="pass: an allowed service limited to the own account [DEPUTY]"),
    pytest.param([grant({"Service": "logging.s3.amazonaws.com"}, None, Action="s3:PutObject")],
                 LOGGING, False, ["no fixed aws:SourceArn"],
                 id="drift: an allowed service without a source limit [DEPUTY]"),
    pytest.param([grant({"Service": "cloudfront.amazonaws.com"},
                        {"StringEquals": {"AWS:SourceArn": DIST}})], CLOUDFRONT, True, [],
                 id="pass: CloudFront OAC limited to an allowed distribution [OAC]"),
    pytest.param([grant({"Service": "cloudfront.amazonaws.com"},
                        {"StringEquals": {"AWS:SourceArn":
                                          f"arn:aws:cloudfront::{OTHER}:distribution/EOTHER"}})],
                 CLOUDFRONT, False, ["no fixed aws:SourceArn"],
                 id="drift: CloudFront OAC for another account's distribution [OAC]"),
    pytest.param([grant({"Service": "cloudfront.amazonaws.com"},
                        {"StringLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{OWN}:*"}})],
                 CLOUDFRONT, False, [], id="drift: CloudFront OAC for any distribution [OAC]"),
    pytest.param([grant({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "
                                "EH1HDMB1FH2TC"})], None, False, ["cannot tell which account"],
                 id="drift: a legacy origin access identity"),
    pytest.param([grant({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"})], None, False,
                 ["cannot tell"], id="drift: a canonical user id"),
    pytest.param([grant({"AWS": f"arn:aws:iam::{OTHER}:root"}),
                  {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": [ARN, OBJ],
                   "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWN}}}],
                 None, True, ["deny it entirely"], id="pass: a Deny outside the own account"),
    pytest.param([grant({"AWS": f"arn:aws:iam::{OTHER}:root"}),
                  {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": [ARN, OBJ],
                   "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3"}}}],
                 None, False, [], id="drift: a Deny outside an organization that is not allowed"),
    pytest.param([grant(f"arn:aws:iam::{OTHER}:root")], None, False, ["is malformed"],
                 id="drift: a malformed bare-string principal of another account"),
    pytest.param([grant({"AWS": "*"}, {"StringEquals": {"s3:DataAccessPointAccount": OWN}},
                        Action="*", Resource=[ARN, OBJ])], None, True, [],
                 id="pass: delegation to the own account's access points"),
    pytest.param([grant({"AWS": "*"}, {"StringEquals": {"s3:DataAccessPointAccount": OTHER}},
                        Action="*", Resource=[ARN, OBJ])], None, False, [],
                 id="drift: delegation to another account's access points"),
]


@pytest.mark.parametrize(("statements", "allowed", "ok", "says"), CROSS)
def test_cross_account(statements: list[dict[str, Any]], allowed: Allowance | None, ok: bool,
                       says: list[str]) -> None:
    verdict = cross_account_check(policy(*statements), B, OWN, allowed)
    assert verdict.ok is ok, verdict
    text = " | ".join(verdict.explanation)
    assert all(fragment in text for fragment in says), text


def test_cross_account_names_each_offending_grant() -> None:
    doc = policy(grant({"AWS": [f"arn:aws:iam::{OTHER}:root", f"arn:aws:iam::{OWN}:root",
                                "111122223333"]}))
    verdict = cross_account_check(doc, B, OWN)
    assert [g.grantee for g in verdict.offending] == [
        "AWS 111122223333", f"AWS arn:aws:iam::{OTHER}:root"]
    assert all(g.label == "statement 'Share'" and g.actions == "s3:GetObject"
               for g in verdict.offending)


def test_no_policy_grants_nothing_across_accounts() -> None:
    assert cross_account_check(None, B, OWN).ok
