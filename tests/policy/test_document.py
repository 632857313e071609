"""parse_policy: every spelling IAM accepts comes out in one normalised shape."""

from __future__ import annotations

import json

import pytest

from auditor.model import Condition, Principal, Statement
from auditor.policy.document import parse_policy


def one(statement: object) -> Statement:
    doc = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert len(doc.statements) == 1
    return doc.statements[0]


BASE = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*"}


def test_a_single_statement_object_is_read_as_a_one_statement_list() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": BASE})
    doc = parse_policy(text)
    assert len(doc.statements) == 1
    assert doc.statements[0].effect == "Allow"
    assert doc.text == text


def test_string_and_list_actions_and_resources_normalise_to_the_same_tuple() -> None:
    as_string = one(BASE)
    as_list = one({**BASE, "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]})
    assert as_string == as_list
    assert as_string.actions == ("s3:GetObject",)
    assert as_string.resources == ("arn:aws:s3:::b/*",)
    assert as_string.not_actions is None and as_string.not_resources is None


def test_not_elements_are_kept_apart_from_their_positive_forms() -> None:
    st = one({"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
              "NotAction": ["s3:GetObject", "s3:ListBucket"], "NotResource": "arn:aws:s3:::x"})
    assert st.principal is None
    assert st.not_principal == Principal(entries=(("AWS", "arn:aws:iam::1:root"),))
    assert st.actions is None and st.not_actions == ("s3:GetObject", "s3:ListBucket")
    assert st.resources is None and st.not_resources == ("arn:aws:s3:::x",)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        pytest.param("*", Principal(wildcard=True), id="bare star is the wildcard principal"),
        pytest.param({"AWS": "*"}, Principal(entries=(("AWS", "*"),)),
                     id="AWS star is an entry, not the bare wildcard"),
        pytest.param({"Service": "logging.s3.amazonaws.com", "AWS": ["arn:b", "*", "arn:a"]},
                     Principal(entries=(("AWS", "*"), ("AWS", "arn:a"), ("AWS", "arn:b"),
                                        ("Service", "logging.s3.amazonaws.com"))),
                     id="mixed principal types come out as sorted pairs"),
        pytest.param({"CanonicalUser": "abc", "Federated": "cognito-identity.amazonaws.com"},
                     Principal(entries=(("CanonicalUser", "abc"),
                                        ("Federated", "cognito-identity.amazonaws.com"))),
                     id="canonical and federated principals are kept"),
    ],
)
def test_principal_shapes(principal: object, expected: Principal) -> None:
    assert one({**BASE, "Principal": principal}).principal == expected


def test_condition_literals_become_strings_and_keys_are_lower_cased() -> None:
    st = one({**BASE, "Condition": {
        "Bool": {"aws:SecureTransport": False},
        "NumericLessThan": {"s3:TlsVersion": 1.2, "s3:max-keys": 10},
        "StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]},
        "BoolIfExists": {"aws:MultiFactorAuthPresent": True},
    }})
    assert st.conditions == (
        Condition("Bool", "aws:securetransport", ("false",)),
        Condition("NumericLessThan", "s3:tlsversion", ("1.2",)),
        Condition("NumericLessThan", "s3:max-keys", ("10",)),
        Condition("StringEquals", "aws:sourcevpce", ("vpce-1", "vpce-2")),
        Condition("BoolIfExists", "aws:multifactorauthpresent", ("true",)),
    )


def test_a_statement_without_sid_or_condition_has_defaults() -> None:
    st = one(BASE)
    assert st.sid is None
    assert st.conditions == ()


def test_sid_is_kept() -> None:
    assert one({**BASE, "Sid": "PublicRead"}).sid == "PublicRead"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "not valid JSON", id="broken JSON is refused"),
        pytest.param("[]", "must be a JSON object", id="a top-level list is refused"),
        pytest.param("{}", "Statement", id="a policy without Statement is refused"),
        pytest.param('{"Statement": "x"}', "Statement", id="a string Statement is refused"),
        pytest.param('{"Statement": ["x"]}', "#1 is not a JSON object",
                     id="a statement that is not an object is refused"),
    ],
)
def test_malformed_documents_raise_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_policy(text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"Effect": "allow"}, "Effect must be", id="lower-case effect is refused"),
        pytest.param({"Effect": None}, "Effect must be", id="missing effect is refused"),
        pytest.param({"NotAction": "s3:*"}, "exactly one of Action and NotAction",
                     id="Action together with NotAction is refused"),
        pytest.param({"Action": None}, "exactly one of Action and NotAction",
                     id="a statement without any action is refused"),
        pytest.param({"NotResource": "*"}, "exactly one of Resource and NotResource",
                     id="Resource together with NotResource is refused"),
        pytest.param({"Action": 5}, "Action must be a string", id="a numeric action is refused"),
        pytest.param({"Action": ["s3:GetObject", 5]}, "Action must be a string",
                     id="a list with a non-string action is refused"),
        pytest.param({"Principal": "arn:aws:iam::1:root"}, "Principal must be",
                     id="a bare ARN principal is refused"),
        pytest.param({"Principal": {}}, "Principal must be", id="an empty principal is refused"),
        pytest.param({"Condition": ["x"]}, "Condition must be an object",
                     id="a list condition is refused"),
        pytest.param({"Condition": {"Bool": "x"}}, "must map keys to values",
                     id="an operator without keys is refused"),
        pytest.param({"Condition": {"Bool": {"aws:SecureTransport": None}}}, "condition values",
                     id="a null condition value is refused"),
        pytest.param({"Condtion": {}}, "unknown element", id="a misspelt element is refused"),
        pytest.param({"Sid": 3}, "Sid must be a string", id="a numeric sid is refused"),
    ],
)
def test_malformed_statements_raise_value_error(change: dict[str, object], message: str) -> None:
    statement = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ValueError, match=message):
        one(statement)


def test_a_repeated_key_is_refused_rather_than_silently_dropped() -> None:
    text = ('{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",'
            ' "Condition": {"Bool": {"aws:SecureTransport": "false"},'
            ' "Bool": {"aws:ViaAWSService": "false"}}}}')
    with pytest.raises(ValueError, match="repeats the key 'Bool'"):
        parse_policy(text)
