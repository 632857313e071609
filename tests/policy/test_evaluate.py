"""The policy evaluator behind tls_only and public_access: verdicts by IAM semantics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auditor.model import PolicyDocument
from auditor.policy import globs as _policy_match
from auditor.policy.document import parse_policy
from auditor.policy.evaluate import (
    PolicyTooComplexError,
    action_matches,
    public_actions,
    public_policy_grants,
    resource_matches,
    tls_only_gaps,
)
from auditor.policy.globs import Lang, covers, intersects

B = "amply-storage-prod"
ARN = f"arn:aws:s3:::{B}"
OBJ = f"{ARN}/*"
ACCOUNT = "111122223333"
HTTP_FALSE = {"Bool": {"aws:SecureTransport": "false"}}


def policy(*statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def deny(**over: Any) -> dict[str, Any]:
    """The seed TLS statement, with some elements replaced (None removes one)."""
    base: dict[str, Any] = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                            "Action": "s3:*", "Resource": [ARN, OBJ], "Condition": HTTP_FALSE}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


def allow(**over: Any) -> dict[str, Any]:
    """The seed public-read statement, with some elements replaced (None removes one)."""
    base: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": OBJ}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


# --------------------------------------------------------------------------- tls_only: passes

TLS_PASSES = [
    pytest.param([deny()], id="the seed policy passes"),
    pytest.param([deny(Principal={"AWS": "*"})], id="AWS star principal passes"),
    pytest.param([deny(Principal={"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]})],
                 id="a principal list that includes AWS star passes"),
    pytest.param([deny(Sid="Bucket", Resource=ARN), deny(Sid="Objects", Resource=OBJ)],
                 id="separate statements for bucket and objects pass"),
    pytest.param([deny(Condition={"Bool": {"aws:SecureTransport": False}})],
                 id="a JSON false literal passes"),
    pytest.param([deny(Condition={"Bool": {"aws:SecureTransport": "False"}})],
                 id="a capitalised False passes because Bool ignores case"),
    pytest.param([deny(Condition={"Bool": {"aws:securetransport": "false"}})],
                 id="a lower-case condition key passes"),
    pytest.param([deny(Condition={"BoolIfExists": {"aws:SecureTransport": "false"}})],
                 id="BoolIfExists passes because the key is always present"),
    pytest.param([deny(Condition={"StringEquals": {"aws:SecureTransport": "false"}})],
                 id="StringEquals false passes"),
    pytest.param([deny(Condition={"StringLike": {"aws:SecureTransport": "f*"}})],
                 id="StringLike matching false passes"),
    pytest.param([deny(Condition={"StringNotEquals": {"aws:SecureTransport": "true"}})],
                 id="StringNotEquals true passes"),
    pytest.param([deny(Condition={"Null": {"s3:TlsVersion": "true"}})],
                 id="denying when no TLS version is present passes"),
    pytest.param([deny(Condition={"Null": {"aws:SecureTransport": "false"}})],
                 id="a Null false test passes because the key is always present"),
    pytest.param([deny(Action="*")], id="Action star passes"),
    pytest.param([deny(Action="S3:*")], id="an upper-case S3 wildcard passes"),
    pytest.param([deny(Action=None, NotAction=["iam:*", "ec2:*"])],
                 id="NotAction that excludes only non-S3 actions passes"),
    pytest.param([deny(Resource=f"arn:aws:s3:::{B}*")], id="resource bucket-star passes"),
    pytest.param([deny(Resource="*")], id="resource star passes"),
    pytest.param([deny(Resource=[ARN, "arn:aws:s3:::*/*"])],
                 id="objects of every bucket plus this bucket pass"),
    pytest.param([deny(Resource=None, NotResource="arn:aws:s3:::other-bucket/*")],
                 id="NotResource naming only another bucket passes"),
    pytest.param([deny(Condition=None)], id="an unconditional deny of everything passes"),
    pytest.param([deny(Condition={**HTTP_FALSE,
                                  "NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}})],
                 id="a TLS-version test with IfExists still catches plain HTTP"),
    pytest.param([deny(Action="s3:Get*"), deny(Sid="Rest", Action="*")],
                 id="a partial deny next to a complete one passes"),
    pytest.param([deny(Resource=[f"{ARN}/?", f"{ARN}/??*", ARN])],
                 id="object patterns that together cover every key pass"),
    pytest.param([deny(Sid="A", Resource=[ARN, f"{ARN}/?"]), deny(Sid="B", Resource=f"{ARN}/??*")],
                 id="object patterns split across statements pass"),
    pytest.param([allow(Sid="Read", Condition=HTTP_FALSE), deny()],
                 id="a stray Allow does not spoil a correct Deny"),
]


@pytest.mark.parametrize("statements", TLS_PASSES)
def test_tls_only_passes(statements: list[dict[str, Any]]) -> None:
    assert tls_only_gaps(policy(*statements), B) == ()


# --------------------------------------------------------------------------- tls_only: drifts

TLS_DRIFTS = [
    pytest.param([deny(Action="s3:Get*")],
                 ["covers only s3:Get*", "s3:PutObject is not denied"],
                 id="a deny of only s3:Get* drifts and names a missed action"),
    pytest.param([deny(Resource=OBJ)], [f"covers {OBJ} but not the bucket {ARN}"],
                 id="a deny of only the objects drifts"),
    pytest.param([deny(Resource=ARN)], [f"covers {ARN} but not all objects"],
                 id="a deny of only the bucket ARN drifts"),
    pytest.param([deny(Resource=[ARN, f"{ARN}/a*"])], ["but not all objects"],
                 id="a deny of only some object keys drifts"),
    pytest.param([deny(Resource=["arn:aws:s3:::other-bucket", "arn:aws:s3:::other-bucket/*"])],
                 ["statement 'DenyInsecureTransport' names bucket other-bucket", "no Deny"],
                 id="a deny for another bucket drifts"),
    pytest.param([deny(Effect="Allow")], ["statement 'DenyInsecureTransport' is an Allow"],
                 id="an Allow in place of the Deny drifts"),
    pytest.param([deny(Condition={**HTTP_FALSE, "NumericLessThan": {"s3:TlsVersion": 1.2}})],
                 ["also requires s3:TlsVersion < 1.2, so a plain-HTTP request is never denied"],
                 id="requiring SecureTransport and an old TLS version drifts"),
    pytest.param([deny(Condition={**HTTP_FALSE, "NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})],
                 ["need not meet"], id="an exemption by source IP drifts"),
    pytest.param([deny(Condition={**HTTP_FALSE,
                                  "StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1"}})],
                 ["aws:SourceVpce"], id="an exemption for a VPC endpoint drifts"),
    pytest.param([deny(Condition={"Bool": {"aws:SecureTransport": "true"}})],
                 ["the wrong way round"], id="denying secure requests instead drifts"),
    pytest.param([deny(Condition={"StringEquals": {"aws:SecureTransport": "False"}})],
                 ["never meets"], id="StringEquals is case-sensitive so False never matches"),
    pytest.param([deny(Condition={"Null": {"aws:SecureTransport": "true"}})],
                 ["Null aws:SecureTransport true, which a plain-HTTP request"],
                 id="a Null test that the key is missing drifts"),
    pytest.param([deny(Condition={"NumericEquals": {"aws:SecureTransport": "0"}})],
                 ["cannot be relied on"], id="a numeric test of SecureTransport drifts"),
    pytest.param([deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
                 ["uses NotPrincipal"], id="a NotPrincipal deny drifts"),
    pytest.param([deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
                 [f"applies only to AWS arn:aws:iam::{ACCOUNT}:root"],
                 id="a deny for a single account drifts"),
    pytest.param([deny(Sid="Get", Action="s3:Get*"), deny(Sid="Put", Action="s3:Put*")],
                 ["covers only s3:Get*; s3:Put*", "s3:ListBucket is not denied"],
                 id="a union of partial wildcards drifts because future actions stay open"),
    pytest.param([deny(Action=["s3:Get*", "s3:Put*", "s3:List*", "s3:Delete*", "s3:Restore*",
                               "s3:Replicate*", "s3:Abort*", "s3:Bypass*"])],
                 ["(an S3 action added in future is not denied)"],
                 id="wildcards naming every current action family still miss future ones"),
    pytest.param([deny(Action=None, NotAction="s3:GetObject")],
                 ["everything except s3:GetObject", "s3:GetObject is not denied"],
                 id="a NotAction that spares an S3 action drifts"),
    pytest.param([deny(Sid="Bucket", Resource=ARN), deny(Sid="Objects", Action="s3:Get*",
                                                          Resource=OBJ)],
                 [f"on all objects {OBJ}, the Deny", "covers only s3:Get*"],
                 id="split statements drift when the object half is partial"),
    pytest.param([deny(Resource=[ARN, f"{ARN}/?"]),
                  deny(Sid="Long", Action="s3:Get*", Resource=f"{ARN}/??*")],
                 ["covers only s3:Get*"],
                 id="a split of keys drifts when one part covers fewer actions"),
    pytest.param([deny(Resource=None, NotResource=OBJ)], ["but not all objects"],
                 id="a NotResource that spares the objects drifts"),
]


@pytest.mark.parametrize(("statements", "expected"), TLS_DRIFTS)
def test_tls_only_drifts_and_says_why(statements: list[dict[str, Any]],
                                      expected: list[str]) -> None:
    gaps = tls_only_gaps(policy(*statements), B)
    assert gaps, "expected drift"
    text = " | ".join(gaps)
    for fragment in expected:
        assert fragment in text


def test_no_policy_drifts() -> None:
    assert tls_only_gaps(None, B) == (
        "there is no bucket policy, so nothing denies requests when aws:SecureTransport is false",
    )


def test_a_policy_without_statements_drifts() -> None:
    assert "no statements" in tls_only_gaps(PolicyDocument(statements=()), B)[0]


def test_a_policy_with_only_public_read_drifts_without_blaming_the_allow() -> None:
    gaps = tls_only_gaps(policy(allow(Resource=OBJ)), B)
    assert len(gaps) == 1
    assert "no Deny statement" in gaps[0]


def test_each_gap_is_one_sentence() -> None:
    gaps = tls_only_gaps(policy(deny(Effect="Allow", Resource=OBJ, Action="s3:Get*")), B)
    assert gaps
    assert all(". " not in g for g in gaps)


# --------------------------------------------------------------------------- public grants

PUBLIC = [
    pytest.param(allow(), id="the seed public-read statement is public"),
    pytest.param(allow(Principal={"AWS": "*"}), id="AWS star is public"),
    pytest.param(allow(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                 id="an Allow with NotPrincipal is public"),
    pytest.param(allow(Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}),
                 id="StringNotEquals on the org is public"),
    pytest.param(allow(Condition={"StringLike": {"aws:Referer": "https://amply.example/*"}}),
                 id="a Referer condition is public because the header is spoofable"),
    pytest.param(allow(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
                 id="IpAddress 0.0.0.0/0 is public"),
    pytest.param(allow(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::/0"]}}),
                 id="IpAddress with ::/0 among the values is public"),
    pytest.param(allow(Condition={"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}),
                 id="two halves of the IPv4 space are public"),
    pytest.param(allow(Condition={"StringLikeIfExists": {"aws:SourceVpc": "vpc-1"}}),
                 id="StringLikeIfExists on the source VPC is public"),
    pytest.param(allow(Condition={"ForAllValues:StringEquals": {"aws:SourceVpce": "vpce-1"}}),
                 id="ForAllValues on a missing key is public"),
    pytest.param(allow(Condition={"StringLike": {"aws:SourceVpce": "*"}}),
                 id="a wildcard-only endpoint value is public"),
    pytest.param(allow(Condition={"Bool": {"aws:SecureTransport": "true"}}),
                 id="requiring TLS does not make a grant private"),
    pytest.param(allow(Resource="*"), id="resource star is public"),
    pytest.param(allow(Resource=None, NotResource="arn:aws:s3:::other/*"),
                 id="a NotResource that names another bucket is public"),
    # Contract: "every value is fixed: no *, ? or ${...} policy variable, whatever the operator".
    pytest.param(allow(Condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths":
                                                             "o-a/r-b/ou-c/*"}}),
                 id="ForAnyValue on a wildcard org path is public"),
]

NOT_PUBLIC = [
    pytest.param(allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}}),
                 id="a source VPC endpoint condition is not public"),
    pytest.param(allow(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
                 id="a principal org condition is not public"),
    pytest.param(allow(Condition={"StringEquals": {"aws:sourcevpce": "vpce-1a2b"}}),
                 id="a lower-case limiting key is still limiting"),
    pytest.param(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
                 id="IpAddress 10.0.0.0/8 is not public"),
    pytest.param(allow(Condition={"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths":
                                                                 "o-a/r-b/ou-c/"}}),
                 id="ForAnyValue on a fixed org path is not public"),
    pytest.param(allow(Condition={"StringLike": {"aws:Referer": "*"},
                                  "StringEquals": {"aws:SourceAccount": ACCOUNT}}),
                 id="one limiting condition among several is enough"),
    pytest.param(allow(Resource="arn:aws:s3:::other-bucket/*"),
                 id="a statement for another bucket is not public"),
    pytest.param(allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                 id="a specific account principal is not public"),
    pytest.param(allow(Principal={"Service": "logging.s3.amazonaws.com"}),
                 id="a service principal is not public"),
    pytest.param(allow(Effect="Deny"), id="a Deny is never a grant"),
    pytest.param(allow(Resource=None, NotResource=[ARN, OBJ]),
                 id="a NotResource that excludes this bucket is not public"),
]


@pytest.mark.parametrize("statement", PUBLIC)
def test_public_statements_are_reported(statement: dict[str, Any]) -> None:
    grants = public_policy_grants(policy(statement), B, ACCOUNT)
    assert len(grants) == 1
    assert grants[0].reason.endswith(".")
    assert public_actions(policy(statement), B, ACCOUNT).public


@pytest.mark.parametrize("statement", NOT_PUBLIC)
def test_limited_statements_are_not_public(statement: dict[str, Any]) -> None:
    assert public_policy_grants(policy(statement), B, ACCOUNT) == ()
    acts = public_actions(policy(statement), B, ACCOUNT)
    assert not acts.read_objects and acts.beyond_read == ()


def test_a_grant_names_the_statement_and_why() -> None:
    doc = policy({"Sid": "Lock", **deny()}, allow(Sid="PublicRead"),
                 allow(Action=None, NotAction="s3:Delete*", Resource=None, NotResource=ARN,
                       Condition={"StringLike": {"aws:Referer": "x"}}))
    first, second = public_policy_grants(doc, B, ACCOUNT)
    assert (first.sid, first.actions, first.resources) == ("PublicRead", ("s3:GetObject",), (OBJ,))
    assert first.reason == 'Principal "*" lets anyone use s3:GetObject with no condition.'
    assert (second.sid, second.actions, second.resources) == (
        "#3", ("NotAction: s3:Delete*",), (f"NotResource: {ARN}",))
    assert "aws:Referer" in second.reason and "do not keep out" in second.reason


# --------------------------------------------------------------------------- public actions

PUBLIC_DATA = "amply-public-data"


def test_the_seed_public_read_policy_reads_and_does_nothing_more() -> None:
    scope = f"arn:aws:s3:::{PUBLIC_DATA}/*"
    acts = public_actions(policy(allow(Resource=scope)), PUBLIC_DATA, ACCOUNT)
    assert acts.read_objects
    assert acts.read_scope == (scope,)
    assert acts.beyond_read == ()
    assert len(acts.grants) == 1


def test_public_s3_star_opens_writes_and_policy_changes() -> None:
    acts = public_actions(policy(allow(Action="s3:*", Resource=[ARN, OBJ])), B, ACCOUNT)
    assert acts.read_objects
    assert {"s3:PutObject", "s3:PutBucketPolicy", "s3:DeleteBucket"} <= set(acts.beyond_read)
    assert list(acts.beyond_read) == sorted(acts.beyond_read)


def test_object_actions_on_objects_do_not_open_bucket_actions() -> None:
    acts = public_actions(policy(allow(Action="s3:*")), B, ACCOUNT)
    assert "s3:PutObject" in acts.beyond_read
    assert "s3:PutBucketPolicy" not in acts.beyond_read


def test_get_object_on_the_bucket_arn_alone_reads_nothing() -> None:
    acts = public_actions(policy(allow(Resource=ARN)), B, ACCOUNT)
    assert acts.grants and not acts.read_objects


def test_an_unconditional_public_deny_removes_what_it_covers() -> None:
    doc = policy(allow(Action="s3:*", Resource=[ARN, OBJ]),
                 deny(Action=["s3:Put*", "s3:Delete*"], Condition=None))
    acts = public_actions(doc, B, ACCOUNT)
    assert acts.read_objects
    assert not [a for a in acts.beyond_read if a.startswith(("s3:Put", "s3:Delete"))]
    assert "s3:RestoreObject" in acts.beyond_read


@pytest.mark.parametrize(
    "blocker",
    [
        pytest.param(deny(Action="s3:PutObject"), id="a conditional deny"),
        pytest.param(deny(Action="s3:PutObject", Condition=None, Principal=None,
                          NotPrincipal={"AWS": "arn:aws:iam::*:root"}),
                     id="a NotPrincipal deny that spares wildcard principals"),
        pytest.param(deny(Action="s3:PutObject", Condition=None, Resource=f"{ARN}/tmp/*"),
                     id="a deny of part of the objects"),
    ],
)
def test_denies_that_do_not_stop_an_outsider_leave_writes_public(blocker: dict[str, Any]) -> None:
    acts = public_actions(policy(allow(Action="s3:*"), blocker), B, ACCOUNT)
    assert "s3:PutObject" in acts.beyond_read


def test_a_deny_of_all_objects_cancels_the_public_read_grant() -> None:
    # Contract: "A grant wholly cancelled that way is not listed as public."
    doc = policy(allow(), deny(Action="s3:GetObject", Condition=None, Resource=OBJ))
    acts = public_actions(doc, B, ACCOUNT)
    assert not acts.grants and not acts.read_objects and acts.read_scope == ()
    assert [g.label for g in acts.cancelled] == ["statement #1"]
    assert acts.cancelled[0].cancelled_by == ("statement 'DenyInsecureTransport'",)


def test_a_not_principal_deny_of_fixed_principals_takes_public_writes_away() -> None:
    # Contract: a Deny that applies to everyone "with a NotPrincipal naming only fixed
    # principals" takes public access away.
    blocker = deny(Action="s3:PutObject", Condition=None, Principal=None,
                   NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    acts = public_actions(policy(allow(Action="s3:*"), blocker), B, ACCOUNT)
    assert acts.public and "s3:PutObject" not in acts.beyond_read
    assert "s3:DeleteObject" in acts.beyond_read


def test_read_scope_drops_the_patterns_a_deny_swallows() -> None:
    doc = policy(allow(Resource=[f"{ARN}/public/*", f"{ARN}/private/*"]),
                 deny(Action="s3:*", Condition=None, Resource=f"{ARN}/private/*"))
    acts = public_actions(doc, B, ACCOUNT)
    assert acts.read_scope == (f"{ARN}/public/*",)


def test_not_action_allow_grants_everything_it_does_not_list() -> None:
    acts = public_actions(policy(allow(Action=None, NotAction="s3:Delete*")), B, ACCOUNT)
    assert acts.read_objects
    assert "s3:PutObject" in acts.beyond_read
    assert "s3:DeleteObject" not in acts.beyond_read


@pytest.mark.parametrize(
    ("action", "reads"),
    [
        pytest.param("S3:getobject", True, id="actions match case-insensitively"),
        pytest.param("s3:Get*", True, id="s3:Get* includes GetObject"),
        pytest.param("s3:GetObjec?", True, id="a question mark matches one character"),
        pytest.param("s3:List*", False, id="listing is not reading objects"),
        pytest.param("s3:GetObjectAcl", False, id="reading an ACL is not reading objects"),
    ],
)
def test_public_read_follows_action_wildcards(action: str, reads: bool) -> None:
    acts = public_actions(policy(allow(Action=action)), B, ACCOUNT)
    assert acts.read_objects is reads
    assert acts.grants


def test_no_policy_means_nothing_is_public() -> None:
    acts = public_actions(None, B, ACCOUNT)
    assert (acts.read_objects, acts.read_scope, acts.beyond_read, acts.grants) == (
        False, (), (), ())
    assert public_policy_grants(None, B, ACCOUNT) == ()


# --------------------------------------------------------------------------- matching helpers


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        pytest.param("s3:*", "s3:GetObject", True, id="service wildcard matches"),
        pytest.param("S3:GETOBJECT", "s3:GetObject", True, id="actions ignore case"),
        pytest.param("s3:Get*", "s3:PutObject", False, id="a prefix wildcard stops at its prefix"),
        pytest.param("s3:?etObject", "s3:GetObject", True, id="question mark is one character"),
        pytest.param("s3:?etObject", "s3:GGetObject", False, id="question mark is only one"),
        pytest.param("*", "iam:PassRole", True, id="star matches every action"),
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        pytest.param(OBJ, f"{ARN}/a/b.txt", True, id="star crosses slashes"),
        pytest.param(OBJ, ARN, False, id="the objects pattern is not the bucket"),
        pytest.param(f"arn:aws:s3:::{B.upper()}/*", f"{ARN}/k", False, id="resources keep case"),
        pytest.param(f"{ARN}/${{*}}", f"{ARN}/*", True, id="an escaped star is literal"),
        pytest.param(f"{ARN}/${{*}}", f"{ARN}/k", False, id="an escaped star matches only itself"),
    ],
)
def test_resource_matches(pattern: str, arn: str, expected: bool) -> None:
    assert resource_matches(pattern, arn) is expected


@pytest.mark.parametrize(
    ("target", "union", "expected"),
    [
        pytest.param("b/?*", ["b/*"], True, id="bucket-slash-star covers every key"),
        pytest.param("b/?*", ["buck*"], False, id="a wider prefix on another bucket name"),
        pytest.param("b/?*", ["b*"], True, id="bucket-star covers every key"),
        pytest.param("b/?*", ["b/a*"], False, id="a key prefix does not cover every key"),
        pytest.param("b/?*", ["b/a*", "b/b*"], False, id="no union of key prefixes covers all"),
        pytest.param("b/?*", ["b/?", "b/??*"], True, id="short and long keys together cover"),
        pytest.param("s3:?*", ["s3:get*", "s3:put*"], False, id="partial actions never cover"),
    ],
)
def test_glob_subset(target: str, union: list[str], expected: bool) -> None:
    assert covers(Lang.of([target], fold=False), [Lang.of([u], fold=False) for u in union]) is (
        expected)


def test_negated_languages_intersect_only_outside_their_patterns() -> None:
    outside = Lang.of(["s3:*"], fold=True, negated=True)
    assert not intersects(Lang.of(["s3:GetObject"], fold=True), outside)
    assert intersects(Lang.of(["iam:*"], fold=True), outside)


def test_a_hostile_pattern_raises_instead_of_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_policy_match, "_MAX_STATES", 500)
    hostile = Lang.of(["*a" + "?" * 12], fold=False)
    with pytest.raises(PolicyTooComplexError):
        covers(hostile, [hostile])


@pytest.mark.parametrize("check", ["public", "tls_only", "min_tls", "cross_account"])
def test_every_policy_control_raises_on_a_hostile_policy(monkeypatch: pytest.MonkeyPatch,
                                                         check: str) -> None:
    # Fail closed: a policy too intricate to decide is an error for the control, never a pass.
    from auditor.policy.evaluate import cross_account_check, min_tls_check

    monkeypatch.setattr(_policy_match, "_MAX_STATES", 200)
    hostile = f"{ARN}/*a" + "?" * 12
    doc = policy(allow(Resource=hostile), deny(Resource=[ARN, hostile], Condition=None),
                 deny(Sid="Tls", Resource=[ARN, hostile],
                      Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}))
    run = {
        "public": lambda: public_actions(doc, B, ACCOUNT),
        "tls_only": lambda: tls_only_gaps(doc, B),
        "min_tls": lambda: min_tls_check(doc, B, "1.2"),
        "cross_account": lambda: cross_account_check(doc, B, ACCOUNT),
    }[check]
    with pytest.raises(PolicyTooComplexError):
        run()
