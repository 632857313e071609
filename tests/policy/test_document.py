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
        pytest.param('{"Statement": "x"}', "Statement", id="a string Statement is refused"),
        pytest.param('{"Statement": ["x"]}', "#1 of the bucket policy is not a JSON object",
                     id="a statement that is not an object is refused"),
        pytest.param('{"Statement": [{}, 5]}', "#2 of the bucket policy is not a JSON object",
                     id="one statement that is not an object refuses the document"),
    ],
)
def test_unreadable_documents_raise_value_error(text: str, message: str) -> None:
    # Contract: "error is only for a policy that could not be read, is not JSON, or whose
    # statements are not JSON objects".
    with pytest.raises(ValueError, match=message):
        parse_policy(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("{}", "has no Statement element", id="a policy without Statement"),
        pytest.param('{"Statement": null}', "Statement is null", id="Statement null"),
        pytest.param('{"Statement": []}', "empty list", id="an empty Statement list"),
        pytest.param('{"Statement": [], "Versoin": "2012-10-17"}', "unknown top-level",
                     id="a misspelt top-level element"),
        pytest.param('{"Version": "2012-10-18", "Statement": []}', "Version",
                     id="an unknown policy version"),
    ],
)
def test_readable_documents_are_kept_with_their_problems(text: str, problem: str) -> None:
    doc = parse_policy(text)
    assert doc.statements == ()
    assert any(problem in p for p in doc.problems), doc.problems


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param({"Effect": "allow"}, 'Effect "allow"', id="lower-case effect"),
        pytest.param({"Effect": None}, "has no Effect", id="missing effect"),
        pytest.param({"Effect": 1}, "Effect 1", id="a numeric effect"),
        pytest.param({"NotAction": "s3:*"}, "both Action and NotAction",
                     id="Action together with NotAction"),
        pytest.param({"Action": None}, "no Action or NotAction", id="no action at all"),
        pytest.param({"NotResource": "*"}, "both Resource and NotResource",
                     id="Resource together with NotResource"),
        pytest.param({"Resource": None}, "no Resource or NotResource", id="no resource at all"),
        pytest.param({"Principal": None}, "has no Principal", id="no principal at all"),
        pytest.param({"NotPrincipal": "*"}, "both Principal and NotPrincipal",
                     id="Principal together with NotPrincipal"),
        pytest.param({"Action": 5}, "Action 5, which is not a string", id="a numeric action"),
        pytest.param({"Action": ["s3:GetObject", None]}, "Action null",
                     id="a list with a null action"),
        pytest.param({"Action": []}, "empty Action", id="an empty action list"),
        pytest.param({"Principal": "arn:aws:iam::1:root"}, "a bare string",
                     id="a bare ARN principal"),
        pytest.param({"Principal": {}}, "names nobody", id="an empty principal"),
        pytest.param({"Principal": {"AWS": "arn:aws:iam::*:root"}}, "a wildcard inside",
                     id="a wildcard inside a principal ARN"),
        pytest.param({"Principal": {"User": "bob"}}, "type 'User'", id="an unknown principal type"),
        pytest.param({"Condition": ["x"]}, "Condition that is not an object",
                     id="a list condition"),
        pytest.param({"Condition": {"Bool": "x"}}, "does not map keys to values",
                     id="an operator without keys"),
        pytest.param({"Condition": {"StringEqual": {"aws:SourceVpce": "v"}}},
                     "no such condition operator", id="a misspelt operator"),
        pytest.param({"Condition": {"ForAllValues": {"s3:x": "v"}}},
                     "no such condition operator", id="a qualifier used as an operator"),
        pytest.param({"Condition": {"NullIfExists": {"s3:x": "true"}}}, "Null cannot take",
                     id="Null with IfExists"),
        pytest.param({"Condition": {"Bool": {"aws:SecureTransport": None}}}, "not a string",
                     id="a null condition value"),
        pytest.param({"Condtion": {}}, "unknown element(s) Condtion", id="a misspelt element"),
        pytest.param({"Sid": 3}, "Sid that is not a string", id="a numeric sid"),
    ],
)
def test_statements_s3_would_refuse_are_kept_and_say_why(change: dict[str, object],
                                                       problem: str) -> None:
    # Contract: a statement S3 would refuse "can cause drift but never prevents it".
    statement = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    st = one(statement)
    assert st.malformed
    assert any(problem in p for p in st.problems), st.problems


def test_a_well_formed_statement_has_no_problems() -> None:
    st = one({**BASE, "Sid": "Read", "Condition": {"StringEquals": {"aws:SourceVpce": "v"}}})
    assert not st.malformed and st.problems == ()
    assert st.index == 1 and st.label == "statement 'Read'"


def test_unreadable_elements_are_read_as_widely_as_possible() -> None:
    st = one({"Effect": "Allow", "Principal": ["*"], "Action": [None], "NotResource": [None]})
    assert st.principal == Principal(wildcard=True)  # unreadable principal = everyone
    assert st.actions == ("*",)  # unreadable Action = every action
    assert st.not_resources == ()  # unreadable NotResource excludes nothing


def test_numbers_in_principals_are_read_as_the_account_they_spell() -> None:
    st = one({**BASE, "Principal": {"AWS": 111122223333}})
    assert st.principal == Principal(entries=(("AWS", "111122223333"),))
    assert st.malformed


def test_a_repeated_key_is_kept_and_every_value_is_read() -> None:
    # IAM: "Individual elements must not contain multiple instances of the same key"
    # (reference_policies_grammar.html); json.loads would silently keep the last one.
    text = ('{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",'
            ' "Action": "iam:*", "Condition": {"Bool": {"aws:SecureTransport": "false"},'
            ' "Bool": {"aws:ViaAWSService": "false"}}}}')
    st = parse_policy(text).statements[0]
    assert st.actions == ("s3:*", "iam:*")
    assert {c.key for c in st.conditions} == {"aws:securetransport", "aws:viaawsservice"}
    assert "repeats the element Action" in st.problems
    assert "repeats the condition operator Bool" in st.problems


def test_a_repeated_effect_is_read_as_the_allow_it_could_be() -> None:
    text = '{"Statement": {"Effect": "Deny", "Effect": "Allow", "Principal": "*", "Action": "*"}}'
    st = parse_policy(text).statements[0]
    assert st.effect == "Allow" and st.malformed


def test_a_repeated_statement_element_marks_every_statement() -> None:
    text = ('{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}],'
            ' "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}')
    doc = parse_policy(text)
    assert [st.effect for st in doc.statements] == ["Deny", "Allow"]
    assert all(st.malformed for st in doc.statements)
    assert "the policy repeats the Statement element" in doc.problems
