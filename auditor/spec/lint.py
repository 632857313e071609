"""Semantic checks that JSON Schema cannot express, run on schema-valid bucket entries.

Each check yields `SpecProblem`s located on the line of the offending key. Most catch a
spec that could never pass (AWS would refuse the configuration it describes, or two of its
keys contradict each other); the rest catch duplicates that would make the merge ambiguous.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from itertools import pairwise
from typing import Any

from auditor.errors import SpecProblem
from auditor.spec.build import Entry, cors_rule, glob_literals, has_wildcard
from auditor.spec.yaml_loader import KeyPath, YamlDocument

# S3 moves objects only "down" this waterfall (AWS user guide, "Transitioning objects
# using Amazon S3 Lifecycle", supported transitions).
_CLASS_ORDER = ("STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER",
                "DEEP_ARCHIVE")
_INFREQUENT = ("STANDARD_IA", "ONEZONE_IA")
# S3 refuses IA transitions earlier than 30 days, and a move out of IA within 30 days of
# the move into it (both classes bill a 30-day minimum).
_IA_MIN_DAYS = 30
_BAD_NAME_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_NAME_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_MAX_LIFECYCLE_RULES = 1000
_MAX_CORS_RULES = 100


def _where(entry: Entry, path: KeyPath) -> str:
    line = entry.doc.marks.position((*entry.path, *path))[0]
    return f"line {line}"


# --------------------------------------------------------------------------- entries


def duplicate_entries(entries: Sequence[Entry]) -> Iterator[SpecProblem]:
    """The same `name` (or the same `match`) stated twice, across all files."""
    seen: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        for key in ("name", "match"):
            value = entry.data.get(key)
            if not isinstance(value, str):
                continue
            first = seen.setdefault((key, value), entry)
            if first is entry:
                continue
            where = _where(first, (key,))
            if first.doc.file != entry.doc.file:
                where = f"{first.doc.file} {where}"
            yield entry.problem((key,), f"duplicate bucket entry: {key} '{value}' is already "
                                        f"given at {where}")


def _bucket_name(entry: Entry) -> Iterator[SpecProblem]:
    # The schema's pattern covers length and characters; these are S3's other naming rules.
    name = entry.data.get("name")
    if not isinstance(name, str):
        return
    why = None
    if ".." in name:
        why = "two adjacent periods"
    elif _is_ip_address(name):
        why = "it is formatted as an IP address"
    elif name.startswith(_BAD_NAME_PREFIXES) or name.endswith(_BAD_NAME_SUFFIXES):
        why = "it uses a prefix or suffix S3 reserves"
    if why:
        yield entry.problem(("name",), f"'{name}' is not a valid S3 bucket name: {why}")


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def _glob(entry: Entry) -> Iterator[SpecProblem]:
    pattern = entry.data.get("match")
    if not isinstance(pattern, str):
        return
    if not has_wildcard(pattern):
        yield entry.problem(("match",), f"glob '{pattern}' has no wildcard (*, ?, [...]); "
                                        f"use 'name: {pattern}' for a single bucket")
        return
    impossible = sorted(set(glob_literals(pattern)) - _BUCKET_CHARS)
    if impossible:
        chars = ", ".join(repr(c) for c in impossible)
        yield entry.problem(("match",), f"glob '{pattern}' can never match: {chars} cannot "
                                        "appear in a bucket name (lower-case letters, digits, "
                                        "'.' and '-')")


def _encryption(entry: Entry) -> Iterator[SpecProblem]:
    encryption = entry.data.get("encryption")
    if not isinstance(encryption, Mapping):
        return
    algorithm = encryption.get("algorithm")
    if algorithm == "AES256" and "kms_key" in encryption:
        yield entry.problem(("encryption", "kms_key"),
                            "kms_key is given but algorithm is AES256 (SSE-S3 uses no KMS key); "
                            "use algorithm aws:kms or drop kms_key")
    if encryption.get("bucket_key") is True and algorithm in ("AES256", "aws:kms:dsse"):
        yield entry.problem(("encryption", "bucket_key"),
                            f"bucket_key: true cannot hold with algorithm {algorithm}: "
                            "S3 Bucket Keys exist only for SSE-KMS (aws:kms)")


def _public_read(entry: Entry) -> Iterator[SpecProblem]:
    block = entry.data.get("public_access_block")
    if entry.data.get("public_access") != "read" or not isinstance(block, Mapping):
        return
    if block.get("restrict_public_buckets") is True:
        yield entry.problem(("public_access_block", "restrict_public_buckets"),
                            "restrict_public_buckets: true contradicts public_access: read: it "
                            "blocks the anonymous access a public-read policy grants")


def _website(entry: Entry) -> Iterator[SpecProblem]:
    website = entry.data.get("website")
    if not isinstance(website, Mapping):
        return
    if entry.data.get("tls_only") is True:
        # A warning, not an error: the contract's own example spec states both, and a
        # website served only through CloudFront (REST endpoint) can be TLS-only.
        yield dataclasses.replace(entry.problem(("tls_only",),
                            "tls_only: true contradicts website hosting: the S3 website "
                            "endpoint serves plain HTTP only, so a TLS-only policy would deny "
                            "every website request (put HTTPS in front with CloudFront instead)"),
                            level="warning")
    if "redirect_all_requests_to" in website:
        for key in ("index_document", "error_document"):
            if key in website:
                yield entry.problem(("website", key),
                                    f"{key} cannot be combined with redirect_all_requests_to: "
                                    "a redirect-all website serves no documents")


# --------------------------------------------------------------------------- lifecycle


def _lifecycle(entry: Entry) -> Iterator[SpecProblem]:
    rules = entry.data.get("lifecycle")
    if not isinstance(rules, list):
        return
    if len(rules) > _MAX_LIFECYCLE_RULES:
        yield entry.problem(("lifecycle",), f"{len(rules)} lifecycle rules; S3 allows at most "
                                            f"{_MAX_LIFECYCLE_RULES}")
    first_line: dict[str, str] = {}
    for index, rule in enumerate(rules):
        path: KeyPath = ("lifecycle", index)
        rule_id = rule["id"]
        if rule_id in first_line:
            yield entry.problem((*path, "id"), f"duplicate lifecycle rule id '{rule_id}' "
                                               f"(first at {first_line[rule_id]})")
        first_line.setdefault(rule_id, _where(entry, (*path, "id")))
        for check in _RULE_CHECKS:
            yield from check(entry, path, rule)


def _rule_filters(entry: Entry, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    greater, less = rule.get("object_size_greater_than"), rule.get("object_size_less_than")
    if greater is not None and less is not None and greater >= less:
        yield entry.problem((*path, "object_size_less_than"),
                            f"object_size_less_than ({less}) must be larger than "
                            f"object_size_greater_than ({greater}): no object fits the filter")


def _rule_expiration(entry: Entry, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    # S3 has one Expiration element holding exactly one of Days, Date, ExpiredObjectDeleteMarker.
    stated = [k for k in ("expiration_days", "expiration_date", "expired_object_delete_marker")
              if k in rule]
    if len(stated) > 1:
        later = max(stated, key=lambda k: entry.doc.marks.position((*entry.path, *path, k)))
        others = " and ".join(k for k in stated if k != later)
        yield entry.problem((*path, later), f"{later} cannot be combined with {others}: an S3 "
                                            "expiration takes only one of them")


def _rule_transitions(entry: Entry, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    transitions = rule.get("transitions", [])
    kinds = {"days" if "days" in t else "date" for t in transitions}
    if len(kinds) > 1:
        yield entry.problem((*path, "transitions"), "transitions mix 'days' and 'date'; S3 "
                                                    "requires one kind within a rule")
        return
    field = kinds.pop() if kinds else "days"
    yield from _transition_order(entry, (*path, "transitions"), transitions, field)
    expire_key = "expiration_days" if field == "days" else "expiration_date"
    yield from _expires_after(entry, path, rule, "transitions", field, expire_key)


def _rule_noncurrent(entry: Entry, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    transitions = rule.get("noncurrent_transitions", [])
    yield from _transition_order(entry, (*path, "noncurrent_transitions"), transitions, "days")
    yield from _expires_after(entry, path, rule, "noncurrent_transitions", "days",
                              "noncurrent_expiration_days")


def _expires_after(entry: Entry, path: KeyPath, rule: Mapping[str, Any], list_key: str,
                   field: str, expire_key: str) -> Iterator[SpecProblem]:
    transitions, expires = rule.get(list_key, []), rule.get(expire_key)
    if not transitions or expires is None:
        return
    last = max(transitions, key=lambda t: t[field])
    if expires <= last[field]:
        yield entry.problem((*path, expire_key),
                            f"{expire_key} ({expires}) must come after the last transition "
                            f"({field} {last[field]}, {last['storage_class']})")


def _transition_order(entry: Entry, path: KeyPath, transitions: Sequence[Mapping[str, Any]],
                      field: str) -> Iterator[SpecProblem]:
    for index, t in enumerate(transitions):
        if field == "days" and t["storage_class"] in _INFREQUENT and t["days"] < _IA_MIN_DAYS:
            yield entry.problem((*path, index, "days"),
                                f"a transition to {t['storage_class']} needs days >= "
                                f"{_IA_MIN_DAYS} (S3 refuses earlier ones), not {t['days']}")
    ordered = sorted(enumerate(transitions), key=lambda item: (item[1][field], item[0]))
    for (i, a), (j, b) in pairwise(ordered):
        later = max(i, j)  # report on the one written second
        yield from _transition_pair(entry, path, field, (i, a), (j, b), later)


def _transition_pair(entry: Entry, path: KeyPath, field: str, first: tuple[int, Any],
                     second: tuple[int, Any], later: int) -> Iterator[SpecProblem]:
    (i, a), (j, b) = first, second
    a_class, b_class = a["storage_class"], b["storage_class"]
    if a[field] == b[field]:
        yield entry.problem((*path, later, field), f"two transitions on {field} {a[field]} "
                                                   f"(items {i} and {j}); S3 needs distinct ones")
    elif a_class == b_class:
        yield entry.problem((*path, later, "storage_class"),
                            f"{b_class} is the target of two transitions (items {i} and {j})")
    elif _CLASS_ORDER.index(b_class) < _CLASS_ORDER.index(a_class):
        yield entry.problem((*path, j, "storage_class"),
                            f"{b_class} at {field} {b[field]} comes after {a_class} at {field} "
                            f"{a[field]}; S3 only moves objects to a colder class "
                            f"({' -> '.join(_CLASS_ORDER)})")
    elif field == "days" and a_class in _INFREQUENT and b["days"] - a["days"] < _IA_MIN_DAYS:
        yield entry.problem((*path, j, "days"),
                            f"the {b_class} transition (days {b['days']}) must come at least "
                            f"{_IA_MIN_DAYS} days after the {a_class} one (days {a['days']})")


_RULE_CHECKS: tuple[Callable[[Entry, KeyPath, Mapping[str, Any]], Iterator[SpecProblem]], ...] = (
    _rule_filters, _rule_expiration, _rule_transitions, _rule_noncurrent,
)


# --------------------------------------------------------------------------- CORS


def _cors(entry: Entry) -> Iterator[SpecProblem]:
    rules = entry.data.get("cors")
    if not isinstance(rules, list):
        return
    if len(rules) > _MAX_CORS_RULES:
        yield entry.problem(("cors",), f"{len(rules)} CORS rules; S3 allows at most "
                                       f"{_MAX_CORS_RULES}")
    seen: dict[object, int] = {}
    for index, rule in enumerate(rules):
        path: KeyPath = ("cors", index)
        yield from _cors_lists(entry, path, rule)
        same = seen.setdefault(cors_rule(rule), index)
        if same != index:
            yield entry.problem(path, f"CORS rule {index} repeats rule {same} "
                                      f"(at {_where(entry, ('cors', same))})")


def _cors_lists(entry: Entry, path: KeyPath, rule: Mapping[str, Any]) -> Iterator[SpecProblem]:
    for key in ("allowed_origins", "allowed_methods", "allowed_headers", "expose_headers"):
        values = rule.get(key, [])
        first: dict[str, int] = {}
        for index, value in enumerate(values):
            if value in first:
                yield entry.problem((*path, key, index),
                                    f"{value!r} is listed twice in {key} (items {first[value]} "
                                    f"and {index})")
            first.setdefault(value, index)
            if key in ("allowed_origins", "allowed_headers") and value.count("*") > 1:
                yield entry.problem((*path, key, index),
                                    f"{value!r} has more than one '*'; S3 allows one wildcard")


# --------------------------------------------------------------------------- entry point

_ENTRY_CHECKS: tuple[Callable[[Entry], Iterator[SpecProblem]], ...] = (
    _bucket_name, _glob, _encryption, _public_read, _website, _lifecycle, _cors,
)


def lint_entries(
    entries: Sequence[Entry], schema_valid: Callable[[Entry], bool] = lambda _: True
) -> list[SpecProblem]:
    """Duplicate entries across all `entries`, then each schema-valid entry's own checks."""
    # Duplicates only need `name`/`match` to be strings, so they are found even in an entry
    # with a typo elsewhere; the other checks rely on the schema's types.
    problems = list(duplicate_entries(entries))
    for entry in filter(schema_valid, entries):
        for check in _ENTRY_CHECKS:
            problems.extend(check(entry))
    return problems


def lint_waivers(doc: YamlDocument) -> Iterator[SpecProblem]:
    """Waiver dates that are no dates, and waivers that have already expired (a warning)."""
    raw = doc.data.get("waivers") if isinstance(doc.data, Mapping) else None
    for index, item in enumerate(raw if isinstance(raw, list) else ()):
        try:
            expires = date.fromisoformat(str(item["expires"]))
        except ValueError:
            yield doc.problem(("waivers", index, "expires"), f"{item['expires']!r} is not a calendar date")
            continue
        if expires < date.today():
            yield dataclasses.replace(
                doc.problem(("waivers", index, "expires"),
                            f"waiver expired on {expires}: it no longer applies"),
                level="warning")
