"""Remediation runs as printed and injects nothing: every value spliced into a command line is
shell-quoted, and advice is one comment line whatever the values in it contain."""

from __future__ import annotations

import json
import shlex

import pytest

from auditor.controls import CONTROLS, Control, Ref, remediation
from auditor.controls._commands import comment, words
from auditor.model import Absence, PolicyDocument, Scope, Statement

HOSTILE = "evil; rm -rf ~ $(id) `id` | tee x && y'\""
IDS = [pytest.param(c, id=f"{c.scope.value}:{c.key}") for c in CONTROLS]


def _lines(c: Control, name: str, facets: tuple[object, ...] | None = None) -> list[str]:
    ref = Ref(name, "111122223333", "eu-central-1")
    text = remediation(c, ref, c.want(c.example), facets if facets is not None else tuple(None for _ in c.reads))
    assert text
    return text.splitlines()


@pytest.mark.parametrize("c", IDS)
def test_a_hostile_name_stays_one_word_in_every_command(c: Control) -> None:
    words_of_all: list[str] = []
    for line in _lines(c, HOSTILE):
        if line.startswith("# "):
            continue
        tokens = shlex.split(line)  # parses: every quote is closed
        assert "rm" not in tokens and "&&" not in tokens and ";" not in tokens, line
        words_of_all += tokens
    if c.scope is Scope.BUCKET and words_of_all:  # the bucket is named, as one word (or in one, as JSON)
        assert any(HOSTILE in t or json.dumps(HOSTILE)[1:-1] in t for t in words_of_all)


@pytest.mark.parametrize("c", IDS)
def test_advice_stays_one_comment_line_whatever_the_name(c: Control) -> None:
    for line in _lines(c, "evil\n::error::pwned\r\x1b[2J"):
        assert not line.startswith("::") and "\x1b" not in line and "\r" not in line


def test_a_live_policy_merge_quotes_the_bucket_and_the_program() -> None:
    tls = next(c for c in CONTROLS if c.key == "tls_only")
    have = PolicyDocument((Statement("Allow"),))
    (line,) = _lines(tls, HOSTILE, (have,))
    assert line.startswith(f"aws s3api get-bucket-policy --bucket {shlex.quote(HOSTILE)} ")
    tokens = shlex.split(line)
    assert tokens[tokens.index("jq") + 1] == "-c" and tokens.count(HOSTILE) == 2


def test_control_characters_take_ansi_c_quoting_and_one_line() -> None:
    from auditor.controls._commands import quote

    assert quote("a\nb'c\\") == "$'a\\x0ab\\'c\\\\'"
    assert quote("plain-name") == "plain-name"


def test_exists_remediation_by_what_head_bucket_said() -> None:
    exists = next(c for c in CONTROLS if c.key == "exists")
    ref = Ref("amply-logs", "111122223333", "eu-central-1")
    assert remediation(exists, ref, True, (Absence.MISSING,)) == (
        "aws s3api create-bucket --bucket amply-logs --create-bucket-configuration "
        "LocationConstraint=eu-central-1 --region eu-central-1")
    elsewhere = remediation(exists, ref, True, (Absence.ELSEWHERE,))
    assert elsewhere and elsewhere.startswith("# ") and "create-bucket" not in elsewhere


def test_words_and_comment() -> None:
    assert words("s3audit", "init", "--bucket", "a b") == "s3audit init --bucket 'a b'"
    assert comment("line one\nline two") == "# line one\\x0aline two"


@pytest.mark.parametrize(("key", "want"), [("object_lock", False), ("data_events", {"read": False}),
                                           ("versioning", "Disabled"), ("tls_only", False)])
def test_advice_of_every_branch_stays_one_line(key: str, want: object) -> None:
    c = next(c for c in CONTROLS if c.key == key)
    text = remediation(c, Ref("evil\n::error::pwned", "111122223333", "eu-central-1"), c.want(want),
                       tuple(None for _ in c.reads))
    assert text and text.startswith("# ") and "\n" not in text and "\\x0a::error::pwned" in text
