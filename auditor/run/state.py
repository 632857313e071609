"""Collect once, judge many: the facets a run read, saved as JSON Lines, and judged again later.

`--save-state FILE` streams what the collector saw (each account's listing, every bucket's
facets as parsed, the account-scope facets) to FILE as the run goes, so memory stays flat;
`audit --from-state FILE` judges those facets again with no AWS access at all: a spec change
re-evaluated in CI without credentials, or a report reproduced exactly (the saved run's time
and duration are kept unless --now is given).

Facet values are the model's frozen dataclasses, written with their type name (`"$": "Acl"`)
and read back through the same classes; tuples come back as tuples. A facet the new specs
need but the saved run did not read is `error` ("NotSaved"), never a pass.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO, Any, cast

from auditor import model
from auditor.collect import Collector, Listing, Target
from auditor.collect.accounts import AccountFailure
from auditor.errors import AuditorError
from auditor.model import (
    AccountState,
    AwsFailure,
    BucketState,
    Facet,
    FacetValue,
    NotRead,
    PrincipalState,
    Skip,
    Unreadable,
)

FORMAT = "s3audit-state"
VERSION = 1
_TYPES: dict[str, Any] = {name: obj for name, obj in vars(model).items() if dataclasses.is_dataclass(obj)}
_ENUMS = {name: obj for name, obj in vars(model).items() if isinstance(obj, type) and issubclass(obj, Enum)}


def encode(value: Any) -> Any:
    """A model value as JSON-able data, with type names where the reader needs them."""
    if isinstance(value, Enum):
        return {"$enum": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"$": type(value).__name__, **{f.name: encode(getattr(value, f.name))
                                               for f in dataclasses.fields(value)}}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    return value


def decode(data: Any) -> Any:
    """The inverse of `encode` (lists become tuples, as the frozen model holds them)."""
    if isinstance(data, list):
        return tuple(decode(v) for v in data)
    if isinstance(data, dict):
        if "$enum" in data:
            return _ENUMS[data["$enum"]](data["v"])
        kind = data.get("$")
        if kind not in _TYPES:
            raise ValueError(f"unknown value type {kind!r}")
        return _TYPES[kind](**{k: decode(v) for k, v in data.items() if k != "$"})
    return data


class StateWriter:
    """Streams one run's collected state to a temp file beside FILE; `close` renames it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or Path("."))
        except OSError as exc:
            raise AuditorError(f"--save-state {path}: cannot write there: {exc}") from exc
        self._tmp = Path(tmp)
        self._out: IO[str] = os.fdopen(handle, "w", encoding="utf-8")
        self._line({"kind": "header", "format": FORMAT, "version": VERSION})

    def _line(self, data: dict[str, Any]) -> None:
        self._out.write(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")

    def listing(self, collector: Collector, listing: Listing) -> None:
        self._line({"kind": "listing", "collector": id(collector), "buckets": [list(b) for b in listing.buckets],
                    "error": encode(listing.error)})

    def bucket(self, collector: Collector, state: BucketState) -> None:
        self._line({"kind": "bucket", "collector": id(collector), "state": encode(state)})

    def account(self, collector: Collector, state: AccountState) -> None:
        self._line({"kind": "account", "collector": id(collector), "state": encode(state)})

    def principal(self, collector: Collector, state: PrincipalState) -> None:
        self._line({"kind": "principal", "collector": id(collector), "state": encode(state)})

    def state(self, collector: Collector, state: AccountState | PrincipalState) -> None:
        """Collector.record: an account or principal state as the collector makes it."""
        if isinstance(state, AccountState):
            self.account(collector, state)
        else:
            self.principal(collector, state)

    def close(self, collectors: list[Collector], failures: list[AccountFailure], meta: dict[str, Any]) -> None:
        for c in collectors:
            account = c.account_id()
            self._line({"kind": "collector", "collector": id(c), "account": encode(account)})
        for f in failures:
            self._line({"kind": "account_failure", "failure": [f.account, f.label, encode(f.error)]})
        self._line({"kind": "run", **meta})
        self._out.close()
        try:
            self._tmp.replace(self.path)
        except OSError as exc:
            raise AuditorError(f"--save-state {self.path}: cannot write it: {exc}") from exc

    def abandon(self) -> None:
        self._out.close()
        self._tmp.unlink(missing_ok=True)


@dataclass
class SavedCollector(Collector):
    """A collector that answers from a saved state and never calls AWS."""

    saved_account: str | AwsFailure = ""
    listing: Listing = field(default_factory=Listing)
    buckets: dict[str, BucketState] = field(default_factory=dict)
    accounts: dict[str, AccountState] = field(default_factory=dict)
    principals: dict[str, PrincipalState] = field(default_factory=dict)

    def principal(self, role: str, facets: frozenset[Facet]) -> PrincipalState:
        account = self.saved_account if isinstance(self.saved_account, str) else ""
        saved = self.principals.get(role, PrincipalState(role, account))
        return PrincipalState(role, saved.account_id, saved.arn, tuple((f, _saved(saved, f)) for f in sorted(facets)))

    def list_buckets(self) -> Listing:
        return self.listing

    def account_id(self) -> str | AwsFailure:
        return self.saved_account

    def account(self, facets: frozenset[Facet]) -> AccountState:
        account = self.saved_account if isinstance(self.saved_account, str) else ""
        saved = self.accounts.get(account, AccountState(account))
        return AccountState(account, tuple((f, _saved(saved, f)) for f in sorted(facets)))

    def prepared(self, target: Target) -> BucketState | None:
        saved = self.buckets.get(target.name)
        account = self.saved_account if isinstance(self.saved_account, str) else ""
        if saved is None:
            return BucketState(target.name, account, target.region, target.listed is not False, tuple(
                (f, _not_saved(f, f"the saved run did not read bucket {target.name}")) for f in sorted(target.facets)))
        if not saved.exists or not target.facets:
            return saved
        skips = dict(target.skips)
        values = tuple((f, _saved(saved, f, skips.get(f, ()))) for f in sorted(target.facets))
        return BucketState(saved.name, saved.account_id, saved.region, True, values)


def _saved(state: BucketState | AccountState | PrincipalState, facet: Facet, skips: tuple[Skip, ...] = ()) -> FacetValue:
    if not state.has(facet):
        return _not_saved(facet, f"the saved run did not read {facet.value}")
    value = state.facet(facet)
    if isinstance(value, NotRead):
        # Left unread then: still so when the specs judged now let it go for the same facts.
        after = {f: state.facet(f) for s in skips for f in s.after if state.has(f)}
        reasons = [s.unneeded(*(after.get(f) for f in s.after)) for s in skips]
        if reasons and all(reasons):
            return NotRead(facet, str(reasons[0]))
        return _not_saved(facet, f"the saved run did not read {facet.value} ({value.reason})")
    return value


def _not_saved(facet: Facet, why: str) -> Unreadable:
    return Unreadable(facet, "(state)", "NotSaved", why)


@dataclass
class SavedRun:
    collectors: list[SavedCollector]
    failures: list[AccountFailure]
    meta: dict[str, Any]


def load_state(path: Path) -> SavedRun:
    """A saved state, checked line by line; AuditorError (file:line) when it is not one."""
    by_id: dict[int, SavedCollector] = {}
    failures: list[AccountFailure] = []
    meta: dict[str, Any] | None = None
    try:
        lines = list(_lines(path))
    except OSError as exc:
        raise AuditorError(f"--from-state {path}: cannot read it: {exc}") from exc
    for number, data in lines:
        try:
            _take(data, by_id, failures)
            if data.get("kind") == "run":
                meta = data
        except (KeyError, TypeError, ValueError) as exc:
            raise AuditorError(f"{path}:{number}: not a saved s3audit state line: {exc}") from exc
    if meta is None:
        raise AuditorError(f"{path}: no run record: the state is incomplete (was the run interrupted?)")
    return SavedRun(list(by_id.values()), failures, meta)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AuditorError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if number == 1 and (data.get("format"), data.get("version")) != (FORMAT, VERSION):
                raise AuditorError(f"{path}:1: not an {FORMAT} version {VERSION} file")
            yield number, data


def _take(data: dict[str, Any], by_id: dict[int, SavedCollector], failures: list[AccountFailure]) -> None:
    kind = data["kind"]
    if kind in ("listing", "bucket", "account", "collector", "principal"):
        saved = by_id.setdefault(data["collector"], SavedCollector(clients=cast(Any, None)))
        if kind == "listing":
            saved.listing = Listing(tuple((str(n), r) for n, r in data["buckets"]), decode(data["error"]))
        elif kind == "bucket":
            state = cast(BucketState, decode(data["state"]))
            saved.buckets[state.name] = state
        elif kind == "principal":
            principal = cast(PrincipalState, decode(data["state"]))
            saved.principals[principal.role] = principal
        elif kind == "account":
            account = cast(AccountState, decode(data["state"]))
            saved.accounts[account.account_id] = account
        else:
            saved.saved_account = decode(data["account"])
    elif kind == "account_failure":
        account, label, error = data["failure"]
        failures.append(AccountFailure(account, label, cast(AwsFailure, decode(error))))
