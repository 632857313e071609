"""`validate --framework NAME`: spec entries that fall below a framework's bar.

The bar is what the framework's built-in baseline states (its `pack: true` requirements). An
exact entry is judged by what it is audited against, its merge with the baselines that
match it; a `match:` entry by what it states itself. Each finding is a warning on the
entry's own line, naming the requirement and what falls short.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.frameworks import below_bar, framework
from auditor.model import Scope, SourceRef, SpecEntry, SpecSet
from auditor.spec.build import effective_spec

_NOUN = {Scope.BUCKET: "bucket", Scope.ACCOUNT: "account"}


def _where(source: SourceRef | None) -> str:
    return f"{source.file}:{source.line}:{source.column}" if source else "specs"


def _entry_findings(name: str, entry: SpecEntry, judged: SpecEntry) -> Iterator[str]:
    title = {r.id: r.title for r in framework(name).requirements}
    for req, why in below_bar(name, entry.scope, dict(judged.wants)):
        if entry.match is not None and why.startswith("does not state"):
            continue  # a baseline need not state everything; the entries it serves are judged
        where = _where(entry.source("name") or entry.source("match"))
        yield (f"{where}: warning: {_NOUN[entry.scope]} {entry.label} is below {name} {req.id} "
               f"({title[req.id]}): {why}")


def findings(specs: SpecSet, name: str) -> list[str]:
    """Every warning for the specs against the framework's bar, in file order."""
    out: list[str] = []
    for entry in specs.entries:
        if entry.source("name") is None and entry.source("match") is None:
            continue
        src = entry.source("name") or entry.source("match")
        if src is not None and src.file.startswith("pack:"):
            continue  # the built-in baselines are the bar
        judged = entry if entry.name is None else effective_spec(specs, entry.name, entry.scope)
        out += _entry_findings(name, entry, judged or entry)
    fw = framework(name)
    account_bar = [r.id for r in fw.requirements if r.pack and any(m.scope is Scope.ACCOUNT for m in r.meets)]
    if account_bar and not specs.accounts:
        first = specs.files[0] if specs.files else "specs"
        out.append(f"{first}:1:1: warning: no accounts: entry, so {name} "
                   f"{', '.join(account_bar)} (account level) is not checked")
    return out
