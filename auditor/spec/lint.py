"""Semantic checks that JSON Schema cannot express, run on schema-valid entries.

Each check yields `SpecProblem`s located on the line of the offending key. Entry-level checks
(duplicates, names, globs) live here; what a control's own value means (a lifecycle
transition S3 would refuse, a KMS key with AES256) is that control's `lint`, found through the
registry. Most catch a spec that could never pass; the rest catch duplicates that would make
the merge ambiguous.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from fnmatch import fnmatchcase

from auditor.controls import stated_controls
from auditor.errors import SpecProblem
from auditor.model import Scope
from auditor.spec.build import NAME_KEYS, Entry, glob_literals, has_wildcard
from auditor.spec.yaml_loader import YamlDocument

PACK_PREFIX = "pack:"  # the source of a built-in baseline's entries (frameworks/pack.py)
_BAD_NAME_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_NAME_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_NAME_CHARS = {
    Scope.BUCKET: (frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-"),
                   "a bucket name (lower-case letters, digits, '.' and '-')"),
    Scope.ACCOUNT: (frozenset("0123456789"), "an account id (digits)"),
}
_NOUN = {Scope.BUCKET: "bucket", Scope.ACCOUNT: "account", Scope.PRINCIPAL: "principal"}


def duplicate_entries(entries: Sequence[Entry]) -> Iterator[SpecProblem]:
    """The same `name`/`id` (or the same `match`) stated twice in one scope, across all files."""
    seen: dict[tuple[Scope, str, str], Entry] = {}
    for entry in entries:
        if entry.doc.file.startswith(PACK_PREFIX):
            continue  # a built-in baseline lies beneath the files' entries, never beside them
        for key in (NAME_KEYS[entry.scope], "match"):
            value = entry.data.get(key)
            if not isinstance(value, str):
                continue
            first = seen.setdefault((entry.scope, key, value), entry)
            if first is entry:
                continue
            where = f"line {first.position((key,))[0]}"
            if first.doc.file != entry.doc.file:
                where = f"{first.doc.file} {where}"
            yield entry.problem((key,), f"duplicate {_NOUN[entry.scope]} entry: {key} '{value}' "
                                        f"is already given at {where}")


def _bucket_name(entry: Entry) -> Iterator[SpecProblem]:
    # The schema's pattern covers length and characters; these are S3's other naming rules.
    name = entry.data.get("name")
    if entry.scope is not Scope.BUCKET or not isinstance(name, str):
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
        name_key = NAME_KEYS[entry.scope]
        yield entry.problem(("match",), f"glob '{pattern}' has no wildcard (*, ?, [...]); "
                                        f"use '{name_key}: {pattern}' for a single {_NOUN[entry.scope]}")
        return
    allowed, what = _NAME_CHARS[entry.scope]
    impossible = sorted(set(glob_literals(pattern)) - allowed)
    if impossible:
        chars = ", ".join(repr(c) for c in impossible)
        yield entry.problem(("match",), f"glob '{pattern}' can never match: {chars} cannot "
                                        f"appear in {what}")


def _controls(entry: Entry) -> Iterator[SpecProblem]:
    """Each stated control's own lint (its module knows what S3 would refuse)."""
    for c in stated_controls(entry.scope):
        if c.lint is not None and c.spec_key in entry.data:
            yield from c.lint(entry, entry.data[c.spec_key], entry.data)


_ENTRY_CHECKS: tuple[Callable[[Entry], Iterator[SpecProblem]], ...] = (
    _bucket_name, _glob, _controls,
)


def _overrides(entry: Entry) -> Iterator[SpecProblem]:
    keys = [c.key for c in stated_controls(entry.scope)]
    for index, key in enumerate(entry.data.get("overrides") or ()):
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            yield entry.problem(("overrides", index), f"'{key}' is not a control{hint}")
        elif key not in entry.data:
            yield entry.problem(("overrides", index), f"overrides '{key}', which this entry does "
                                                      "not state", "warning")


def _where(entry: Entry, key: str) -> str:
    return f"{entry.doc.file}:{entry.position((key,))[0]}"


def weakened_baselines(entries: Sequence[Entry]) -> Iterator[SpecProblem]:
    """An exact entry's key that replaces a different value of the `match:` baseline it
    merges over, unless the entry lists the key under `overrides:` (a warning naming both
    places): a baseline is there to hold, and relaxing it should be a decision in writing."""
    order = {id(e): (len(glob_literals(e.data["match"])), i) for i, e in enumerate(entries)
             if isinstance(e.data.get("match"), str)}
    baselines = sorted((e for e in entries if id(e) in order), key=lambda e: order[id(e)])
    for entry in entries:
        name = entry.data.get(NAME_KEYS[entry.scope])
        if not isinstance(name, str):
            continue
        matching = [b for b in baselines if b.scope is entry.scope and fnmatchcase(name, b.data["match"])]
        overrides = set(entry.data.get("overrides") or ())
        for c in stated_controls(entry.scope):
            if c.key not in entry.data or c.key in overrides:
                continue
            base = next((b for b in reversed(matching) if c.key in b.data), None)
            if base is not None and c.want(entry.data[c.key]) != c.want(base.data[c.key]):
                yield entry.problem((c.key,), f"replaces the {c.key} that the baseline 'match "
                                              f"{base.data['match']}' states at {_where(base, c.key)}; "
                                              f"list '{c.key}' under overrides: if that is intended",
                                    "warning")


_ENTRY_CHECKS = (*_ENTRY_CHECKS, _overrides)


def lint_entries(
    entries: Sequence[Entry], schema_valid: Callable[[Entry], bool] = lambda _: True
) -> list[SpecProblem]:
    """Duplicate entries across all `entries`, then each schema-valid entry's own checks,
    then exact entries that silently replace their baselines' values."""
    # Duplicates only need `name`/`match` to be strings, so they are found even in an entry
    # with a typo elsewhere; the other checks rely on the schema's types.
    problems = list(duplicate_entries(entries))
    valid = list(filter(schema_valid, entries))
    for entry in valid:
        if entry.doc.file.startswith(PACK_PREFIX):
            continue  # built-in baselines are s3audit's own, checked by its tests
        for check in _ENTRY_CHECKS:
            problems.extend(check(entry))
    problems.extend(weakened_baselines(valid))
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
            yield doc.problem(("waivers", index, "expires"),
                              f"waiver expired on {expires}: it no longer applies", "warning")
