"""Which buckets to audit where, and what to read of each; shards of a run.

Bucket names are global, so the plan places each spec'd bucket in the account that has it;
a name no account has is one `exists` drift.
"""

from __future__ import annotations

import difflib
import os
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from auditor.collect import Collector, Listing, Target
from auditor.engine import facets_needed, kms_refs, object_queries, skips
from auditor.errors import AuditorError, InvocationError
from auditor.model import SpecEntry, SpecSet
from auditor.spec.build import effective_spec

SHARD_INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX")


@dataclass(frozen=True, slots=True)
class Shard:
    """Slice `index` (1-based) of `count`: the buckets whose name hashes to it."""

    index: int
    count: int

    def owns(self, name: str) -> bool:
        # crc32, not hash(): the same bucket lands in the same shard on every machine.
        return zlib.crc32(name.encode()) % self.count == self.index - 1

    @property
    def first(self) -> bool:
        """Run-level and account results are reported by the first shard only."""
        return self.index == 1


def parse_shard(text: str, environ: Mapping[str, str] = os.environ) -> Shard:
    """`K/N`, or `N` with K from JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX (0-based)."""
    k, _, n = text.rpartition("/")
    if not k:
        index = next((environ[v] for v in SHARD_INDEX_VARIABLES if environ.get(v)), None)
        if index is None or not index.isdigit():
            raise AuditorError("--shard: K/N, or N with JOB_COMPLETION_INDEX / "
                               "AWS_BATCH_JOB_ARRAY_INDEX set")
        k = str(int(index) + 1)
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise AuditorError(f"--shard: {text!r} is not K/N with 1 <= K <= N")
    return Shard(int(k), int(n))


@dataclass(frozen=True, slots=True)
class Job:
    """One bucket to audit in one account."""

    spec: SpecEntry | None
    target: Target
    collector: Collector


def restrict(entry: SpecEntry, controls: Sequence[str]) -> SpecEntry:
    """The entry with every control not in `controls` left unstated (so neither read nor judged)."""
    if not controls:
        return entry
    return replace(entry, wants=tuple((k, v) for k, v in entry.wants if k in controls))


def target(entry: SpecEntry | None, name: str, listed: bool | None, region: str | None) -> Target:
    """What to read of one bucket for its effective entry (None: unmanaged, read nothing)."""
    if entry is None:
        return Target(name, listed, region)
    return Target(name, listed, region, facets_needed(entry), kms_refs(entry), object_queries(entry),
                  skips(entry))


_GLOB = frozenset("*?[")


def select(patterns: Sequence[str], names: Collection[str]) -> tuple[set[str], list[str]]:
    """The names the --bucket patterns (names or globs) match, and the patterns matching none."""
    chosen: set[str] = set()
    unmatched = []
    for pattern in dict.fromkeys(patterns):
        if _GLOB.isdisjoint(pattern):
            hits = {pattern} if pattern in names else set()
        else:
            hits = {n for n in names if fnmatchcase(n, pattern)}
        chosen |= hits
        if not hits:
            unmatched.append(pattern)
    return chosen, unmatched


def no_match(unmatched: Sequence[str], names: Collection[str]) -> InvocationError:
    """`no bucket matches --bucket X`, with the closest names there are."""
    wanted = " ".join(f"--bucket {p}" for p in unmatched)
    short = [p for p in unmatched if len(p) <= 63]
    close = difflib.get_close_matches(short[0], sorted(names), n=3, cutoff=0.8) if short else []
    hint = f" (did you mean {', '.join(close)}?)" if close else (
        f" (the audited accounts and the specs have {len(names)} bucket(s))")
    return InvocationError(f"no bucket matches {wanted}{hint}; nothing audited")


def plan(
    specs: SpecSet,
    listings: Sequence[tuple[Collector, Listing]],
    only: Sequence[str] = (),
    controls: Sequence[str] = (),
) -> list[Job]:
    """Which buckets to audit where, and what to read of each."""
    live: dict[str, list[tuple[Collector, str | None]]] = {}
    for collector, listing in listings:
        for name, region in listing.buckets:
            live.setdefault(name, []).append((collector, region))
    failed = [c for c, listing in listings if listing.error is not None]
    named = {b.name for b in specs.buckets if b.name is not None}
    wanted = set(live) | named
    if only:
        wanted, unmatched = select(only, wanted)
        if unmatched and not failed:
            raise no_match(unmatched, set(live) | named)
        # An account that could not be listed may hold a bucket given by name: read to find out.
        wanted |= {p for p in unmatched if _GLOB.isdisjoint(p)}
    jobs = []
    for name in sorted(wanted):
        spec = effective_spec(specs, name)
        spec = restrict(spec, controls) if spec is not None else None
        if name in live:
            jobs += [Job(spec, target(spec, name, True, region), c) for c, region in live[name]]
        elif spec is None:
            continue  # --bucket named something that neither exists nor has a spec
        elif failed:  # an account we could not list may hold it: find out by reading
            jobs += [Job(spec, target(spec, name, None, None), c) for c in failed]
        else:
            jobs.append(Job(spec, target(spec, name, False, None), listings[0][0]))
    return jobs
