"""Validated spec data -> typed `SpecEntry`s, and the merge of glob baselines per bucket/account.

Everything here assumes the entry already passed the JSON Schema: keys are known and types
are right, so building is each stated control's own builder (`Control.build`), in registry
order. Nothing here names a control.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from auditor.controls import stated_controls
from auditor.errors import SpecProblem
from auditor.model import Scope, Severity, SourceRef, SpecEntry, SpecSet, Waiver
from auditor.spec.yaml_loader import KeyPath, YamlDocument

# Where each scope's entries live in a spec file, and the key naming one subject exactly.
SECTIONS: dict[Scope, str] = {Scope.BUCKET: "buckets", Scope.ACCOUNT: "accounts",
                              Scope.PRINCIPAL: "principals"}
NAME_KEYS: dict[Scope, str] = {Scope.BUCKET: "name", Scope.ACCOUNT: "id", Scope.PRINCIPAL: "role"}
_META_KEYS = ("severity", "overrides")


@dataclass(frozen=True, slots=True)
class Entry:
    """One raw entry (`buckets[index]`, `accounts[index]`) of a loaded document."""

    doc: YamlDocument
    index: int
    data: Mapping[str, Any]
    scope: Scope = Scope.BUCKET

    @property
    def path(self) -> KeyPath:
        return (SECTIONS[self.scope], self.index)

    def problem(self, keys: Sequence[str | int], message: str, level: str = "error") -> SpecProblem:
        """A problem at `keys` below this entry, on the line of the last key."""
        return self.doc.problem((*self.path, *keys), message, level)

    def position(self, keys: Sequence[str | int]) -> tuple[int, int]:
        return self.doc.marks.position((*self.path, *keys))

    def source(self, key: str) -> SourceRef:
        """Where this entry states `key` (the entry's own start if it does not)."""
        line, column = self.position((key,))
        return SourceRef(self.doc.file, line, column)


# --------------------------------------------------------------------------- globs


def glob_literals(pattern: str) -> str:
    """The characters of an fnmatch glob outside `*`, `?` and `[...]` classes."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in "*?":
            i += 1
            continue
        end = _class_end(pattern, i) if char == "[" else None
        if end is not None:
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int | None:
    # Same rules as fnmatch.translate: a `]` first in the class is literal, and a `[`
    # without a closing `]` is a literal `[`.
    j = start + 1
    if j < len(pattern) and pattern[j] == "!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    return j if j < len(pattern) else None


def has_wildcard(pattern: str) -> bool:
    """Whether the glob matches anything other than its literal text."""
    return glob_literals(pattern) != pattern


# --------------------------------------------------------------------------- building


def build_waivers(doc: YamlDocument) -> tuple[Waiver, ...]:
    """The document's schema-valid `waivers:` list as typed Waivers, each with its source line."""
    raw = doc.data.get("waivers") if isinstance(doc.data, Mapping) else None
    out = []
    for index, item in enumerate(raw if isinstance(raw, list) else ()):
        line, column = doc.marks.position(("waivers", index))
        out.append(Waiver(
            bucket=str(item["bucket"]), control=str(item["control"]), reason=str(item["reason"]),
            expires=str(item["expires"]), owner=str(item["owner"]),
            ticket=str(item["ticket"]) if item.get("ticket") is not None else None,
            source=SourceRef(doc.file, line, column),
        ))
    return tuple(out)


def build_entry(entry: Entry) -> SpecEntry:
    """A schema-valid entry as a typed `SpecEntry`, with a SourceRef per stated key."""
    data = entry.data
    controls = [c for c in stated_controls(entry.scope) if c.spec_key in data]
    name = data.get(NAME_KEYS[entry.scope])
    keys = ("name", NAME_KEYS[entry.scope], "match", *_META_KEYS)
    sources = {("name" if k == NAME_KEYS[entry.scope] else k): entry.source(k)
               for k in keys if k in data}
    sources.update({c.key: entry.source(c.spec_key) for c in controls})
    return SpecEntry(
        scope=entry.scope,
        name=None if name is None else str(name),
        match=data.get("match"),
        wants=tuple((c.key, c.want(data[c.spec_key])) for c in controls),
        severity=tuple(sorted((c, Severity(v)) for c, v in (data.get("severity") or {}).items())),
        overrides=tuple(data.get("overrides") or ()),
        sources=tuple(sources.items()),
    )


# --------------------------------------------------------------------------- merge


def applies(entry: SpecEntry, name: str) -> bool:
    """Whether the entry names `name` exactly or its glob matches it (case-sensitively)."""
    if entry.name is not None:
        return entry.name == name
    return entry.match is not None and fnmatchcase(name, entry.match)


def specificity(entry: SpecEntry) -> tuple[int, int]:
    """Exact names beat globs; among globs, more literal characters beat fewer."""
    if entry.name is not None:
        return (1, len(entry.name))
    return (0, len(glob_literals(entry.match or "")))


def matching_entries(specs: SpecSet, name: str, scope: Scope = Scope.BUCKET) -> tuple[SpecEntry, ...]:
    """Every entry of the scope that applies to `name`, least specific first (file order breaks ties)."""
    found = [(specificity(e), i, e) for i, e in enumerate(specs.entries)
             if e.scope is scope and applies(e, name)]
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(entry for _, _, entry in found)


def merge(entries: Sequence[SpecEntry], name: str, scope: Scope) -> SpecEntry:
    """Per key, the most specific entry stating it wins whole (entries least specific first)."""
    wants: dict[str, object] = {}
    sources: dict[str, SourceRef] = {}
    severity: tuple[tuple[str, Severity], ...] = ()
    for entry in entries:
        own = dict(entry.sources)
        for key, value in entry.wants:
            wants[key] = value
            if key in own:
                sources[key] = own[key]
        if entry.severity:  # a top-level key like the others: the most specific mapping wins whole
            severity = entry.severity
            if "severity" in own:
                sources["severity"] = own["severity"]
        if entry.name is not None and "name" in own:
            sources["name"] = own["name"]
    order = [c.key for c in stated_controls(scope) if c.key in wants]
    source_order = ["name", *order, "severity"]
    return SpecEntry(
        scope=scope, name=name, wants=tuple((k, wants[k]) for k in order), severity=severity,
        sources=tuple((k, sources[k]) for k in source_order if k in sources),
    )


def effective_spec(specs: SpecSet, name: str, scope: Scope = Scope.BUCKET) -> SpecEntry | None:
    """The merged entry for `name` (a bucket, or an account id); None when no entry applies."""
    entries = matching_entries(specs, name, scope)
    return merge(entries, name, scope) if entries else None
