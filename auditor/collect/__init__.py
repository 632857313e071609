"""The collector: reads, read-only, exactly the facets each bucket's controls need."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from auditor.causes import INTERRUPTED, UNREACHABLE
from auditor.collect import parse
from auditor.collect.aws import AwsConfig, Clients
from auditor.collect.composite import read_access_points, read_objects, read_role, read_trails
from auditor.collect.facets import (
    CALLER_IDENTITY,
    FACETS,
    HEAD_BUCKET,
    LIST_ALIASES,
    LIST_BUCKETS,
    FacetSpec,
)
from auditor.collect.read import GONE_CODES, call, client_caller, failure, paged
from auditor.model import (
    Absence,
    AccountState,
    AwsFailure,
    BucketState,
    Encryption,
    Facet,
    FacetValue,
    KmsKey,
    KmsKeys,
    ObjectQuery,
    PrincipalState,
    ReplicationRule,
    Role,
    Unreadable,
)
from auditor.shapes import kms_region

__all__ = ["AwsConfig", "Clients", "Collector", "Listing", "Target", "collect", "unreachable_state"]

# Facets the collector assembles itself rather than by one call on the bucket.
_SPECIAL = frozenset({Facet.LOCATION, Facet.KMS_KEYS, Facet.OBJECTS, Facet.ACCESS_POINTS})
_KEY_ARN_PREFIX = "arn:aws:kms:"


@dataclass(frozen=True, slots=True)
class Target:
    """One bucket to audit, and what to read of it."""

    name: str
    listed: bool | None  # None: the listing failed, so existence is learnt by reading
    region: str | None = None
    facets: frozenset[Facet] = frozenset()
    kms_refs: tuple[str, ...] = ()
    objects: tuple[ObjectQuery, ...] = ()  # what the objects facet reads (from the spec)


# botocore's names for "could not talk to the endpoint at all" (after its retries).
UNREACHABLE_CODES = UNREACHABLE


@dataclass(frozen=True, slots=True)
class Listing:
    buckets: tuple[tuple[str, str | None], ...] = ()
    error: AwsFailure | None = None

    @property
    def unreachable(self) -> bool:
        return self.error is not None and self.error.code in UNREACHABLE_CODES


@dataclass
class Collector:
    """Reads buckets through shared clients; account-wide facts are read once and cached."""

    clients: Clients
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _account: str | AwsFailure | None = None
    _account_block: dict[tuple[Facet, str], FacetValue] = field(default_factory=dict)
    _keys: dict[tuple[str | None, str], str | None | Unreadable] = field(default_factory=dict)
    _aliases: dict[tuple[str | None, str], tuple[str, ...]] = field(default_factory=dict)
    _regional: dict[tuple[Facet, str | None], FacetValue] = field(default_factory=dict)
    _region_locks: dict[tuple[Facet, str | None], threading.Lock] = field(default_factory=dict)

    def list_buckets(self) -> Listing:
        """Every bucket of the account, with its region where ListBuckets reports it."""
        client = self.clients.client("s3")
        try:
            # No page size: AWS then answers with every bucket (a ContinuationToken only past
            # its own limit), and emulators that ignore max-buckets paging (moto 5 returns
            # the first page without a token) cannot silently hide buckets from `managed`.
            pages = client.get_paginator("list_buckets").paginate()
            names = tuple((b["Name"], b.get("BucketRegion")) for page in pages for b in page.get("Buckets", []))
        except Exception as exc:
            listing = Listing(error=failure(exc, LIST_BUCKETS.api))
            if listing.unreachable and listing.error is not None:
                with self._lock:  # nothing answers: don't spend another retry budget on STS
                    self._account = self._account or listing.error
            return listing
        return Listing(buckets=names)

    def account_id(self) -> str | AwsFailure:
        """The caller's account id from STS, read once."""
        with self._lock:
            if self._account is None:
                raw = call(self.clients.client("sts"), CALLER_IDENTITY)
                self._account = raw if isinstance(raw, AwsFailure) else str((raw or {}).get("Account", ""))
            return self._account

    def known_account_id(self) -> str | None:
        """The account id if it was read already; never calls AWS."""
        with self._lock:
            return self._account if isinstance(self._account, str) and self._account else None

    def account(self, facets: frozenset[Facet]) -> AccountState:
        """The account's own (account-scope) facets; never raises."""
        account = self.account_id()
        values = tuple((f, self._account_facet(f, account)) for f in sorted(facets))
        return AccountState(account if isinstance(account, str) else "", values)

    def bucket(self, target: Target) -> BucketState:
        """Read one bucket's needed facets; never raises for one bucket's trouble."""
        account = self.account_id()
        account_id = account if isinstance(account, str) else ""
        if target.listed is False:
            return BucketState(target.name, account_id, target.region, exists=False,
                               absence=self.absence(target.name))
        if not target.facets:
            return BucketState(target.name, account_id, target.region)
        region, location = self._region(target)
        if isinstance(location, Unreadable) and location.code in GONE_CODES:
            return BucketState(target.name, account_id, None, exists=False)
        values: dict[Facet, FacetValue] = {}
        if Facet.LOCATION in target.facets:
            values[Facet.LOCATION] = location
        for facet in sorted(f for f in target.facets - _SPECIAL if FACETS[f].scope == "bucket"):
            value = self._read(FACETS[facet], region, Bucket=target.name)
            if isinstance(value, Unreadable) and value.code in GONE_CODES:
                return BucketState(target.name, account_id, region, exists=False)
            values[facet] = value
        for facet in sorted(f for f in target.facets if FACETS[f].scope == "account"):
            values[facet] = self._account_facet(facet, account)
        for facet in sorted(f for f in target.facets if FACETS[f].scope == "region"):
            values[facet] = self._regional_facet(facet, region, target.name)
        if Facet.ACCESS_POINTS in target.facets:
            values[Facet.ACCESS_POINTS] = self._access_points(target.name, region, account)
        if Facet.KMS_KEYS in target.facets:
            values[Facet.KMS_KEYS] = self._kms_keys(target, tuple(values.values()), region)
        if Facet.OBJECTS in target.facets:
            values[Facet.OBJECTS] = self._objects(target, region)
        return BucketState(target.name, account_id, region, True, tuple(values.items()))

    def absence(self, name: str) -> Absence:
        """Why a bucket no audited account lists is not there: HeadBucket 404 or 403."""
        raw = call(self.clients.client("s3"), HEAD_BUCKET, Bucket=name)
        if not isinstance(raw, AwsFailure):
            return Absence.ELSEWHERE  # readable, yet no audited account lists it
        if raw.code in ("404", "NoSuchBucket", "NotFound"):
            return Absence.MISSING
        return Absence.ELSEWHERE if raw.code in ("403", "AccessDenied", "Forbidden") else Absence.UNKNOWN

    def key_aliases(self, arn: str, region: str | None) -> tuple[str, ...]:
        """The alias names of a KMS key (customer aliases first); () when they cannot be read."""
        with self._lock:
            if (region, arn) in self._aliases:
                return self._aliases[region, arn]
        raw = call(self.clients.client("kms", region), LIST_ALIASES, KeyId=arn)
        names: tuple[str, ...] = ()
        if not isinstance(raw, AwsFailure) and raw is not None:
            found = [str(a["AliasName"]) for a in raw.get("Aliases", []) if a.get("AliasName")]
            names = tuple(sorted(found, key=lambda n: (n.startswith("alias/aws/"), n)))
        with self._lock:
            self._aliases[region, arn] = names
        return names

    def principal(self, role: str, facets: frozenset[Facet]) -> PrincipalState:
        """One IAM role of this account (by name) and its policies; never raises."""
        account = self.account_id()
        account_id = account if isinstance(account, str) else ""
        arn = f"arn:aws:iam::{account_id or '?'}:role/{role}"
        if Facet.ROLE not in facets:
            return PrincipalState(role, account_id, arn)
        spec = FACETS[Facet.ROLE]
        if isinstance(account, AwsFailure):
            failed = Unreadable(Facet.ROLE, account.api, account.code, account.message)
            return PrincipalState(role, "", arn, ((Facet.ROLE, failed),))
        value = self._parsed(spec, read_role(client_caller(self.clients.client(spec.service)), role))
        if isinstance(value, Role) and value.arn:
            arn = value.arn
        return PrincipalState(role, account_id, arn, ((Facet.ROLE, value),))

    def _region(self, target: Target) -> tuple[str | None, FacetValue]:
        if target.region:
            return target.region, target.region
        location = self._read(FACETS[Facet.LOCATION], None, Bucket=target.name)
        return (location if isinstance(location, str) else None), location

    def _read(self, spec: FacetSpec, region: str | None, **params: Any) -> FacetValue:
        client = self.clients.client(spec.service, region)
        params = {**dict(spec.params), **params}
        if spec.pages is not None:
            raw = paged(client_caller(client), spec, spec.pages, **params)
        else:
            raw = call(client, spec, **params)
        return self._parsed(spec, raw)

    def _parsed(self, spec: FacetSpec, raw: Any) -> FacetValue:
        if isinstance(raw, AwsFailure):
            return Unreadable(spec.facet, raw.api, raw.code, raw.message)
        try:
            return spec.parse(raw)
        except (ValueError, KeyError, TypeError) as exc:
            # An unexpected answer is still an error, never a pass.
            return Unreadable(spec.facet, spec.api, type(exc).__name__, str(exc))

    def _account_facet(self, facet: Facet, account: str | AwsFailure) -> FacetValue:
        """An account-scope facet, read once per account and run (shared by its buckets)."""
        spec = FACETS[facet]
        if isinstance(account, AwsFailure):
            return Unreadable(facet, account.api, account.code, account.message)
        with self._lock:
            if (facet, account) not in self._account_block:
                self._account_block[facet, account] = (
                    self._trails(spec) if facet is Facet.TRAILS else self._read(spec, None, AccountId=account))
            return self._account_block[facet, account]

    def _trails(self, spec: FacetSpec) -> FacetValue:
        def caller(region: str | None) -> Any:
            return client_caller(self.clients.client(spec.service, region))

        return self._parsed(spec, read_trails(caller, None))

    def _access_points(self, bucket: str, region: str | None, account: str | AwsFailure) -> FacetValue:
        spec = FACETS[Facet.ACCESS_POINTS]
        if isinstance(account, AwsFailure):  # S3 Control calls name the account
            return Unreadable(spec.facet, account.api, account.code, account.message)
        caller = client_caller(self.clients.client(spec.service, region))
        return self._parsed(spec, read_access_points(caller, account, bucket))

    def _regional_facet(self, facet: Facet, region: str | None, bucket: str) -> FacetValue:
        """A region-wide listing (CloudWatch alarms), read once per region and run, and the part
        of it about this bucket."""
        key = (facet, region)
        with self._lock:
            lock = self._region_locks.setdefault(key, threading.Lock())
        with lock:  # the first bucket of a region reads; the others wait for its answer
            if key not in self._regional:
                self._regional[key] = self._read(FACETS[facet], region)
            value = self._regional[key]
        if isinstance(value, tuple) and facet is Facet.ALARMS:
            return parse.bucket_alarms(value, bucket)  # type: ignore[arg-type]
        return value

    def _objects(self, target: Target, region: str | None) -> FacetValue:
        spec = FACETS[Facet.OBJECTS]
        caller = client_caller(self.clients.client(spec.service, region))
        return self._parsed(spec, read_objects(caller, target.name, target.objects))

    def _kms_keys(self, target: Target, values: tuple[FacetValue, ...],
                  region: str | None) -> FacetValue:
        """Resolve the spec's key references and the keys the bucket uses, in the region of
        each live key; nothing at all when the spec spells every key as the bucket does."""
        live = live_kms_refs(values, region)
        keys = []
        for where in dict.fromkeys(r for _, r in live):
            refs = dict.fromkeys([*target.kms_refs, *(ref for ref, r in live if r == where)])
            if len(refs) < 2:
                continue  # the spec spells the key exactly as the bucket does
            for ref in refs:
                arn = self._resolve_key(ref, where or region)
                if isinstance(arn, Unreadable):
                    return arn
                # A key the bucket uses by its alias too: a message names keys as people do.
                named = arn is not None and "alias/" not in ref and (ref, where) in live
                aliases = self.key_aliases(arn, where or region) if named and arn else ()
                keys.append(KmsKey(ref, arn, where, aliases))
        return KmsKeys(tuple(keys))

    def _resolve_key(self, ref: str, region: str | None) -> str | None | Unreadable:
        if ref.startswith(_KEY_ARN_PREFIX) and ":key/" in ref:
            return ref
        with self._lock:
            if (region, ref) in self._keys:  # one DescribeKey per key and region per run
                return self._keys[region, ref]
        spec = FACETS[Facet.KMS_KEYS]
        raw = call(self.clients.client("kms", region), spec, KeyId=ref)
        if isinstance(raw, AwsFailure):  # a failure is not cached: the next bucket retries
            return Unreadable(spec.facet, raw.api, raw.code, raw.message)
        arn = None if raw is None else str(raw["KeyMetadata"]["Arn"])
        with self._lock:
            self._keys[region, ref] = arn
        return arn


def live_kms_refs(values: tuple[FacetValue, ...], region: str | None) -> list[tuple[str, str | None]]:
    """(key reference, region or None for the bucket's own) of every KMS key the read
    facets show the bucket using: default encryption's, and each replication rule's replica
    key (which lives in the destination's region)."""
    found: list[tuple[str, str | None]] = []
    for value in values:
        if isinstance(value, Encryption) and value.algorithm.startswith("aws:kms"):
            # aws:kms without a key id is the AWS-managed key for S3.
            found.append((value.kms_key or "alias/aws/s3", None))
        if isinstance(value, tuple):
            for rule in value:
                if isinstance(rule, ReplicationRule) and rule.replica_kms_key:
                    where = kms_region(rule.replica_kms_key)
                    found.append((rule.replica_kms_key, None if where == region else where))
    return list(dict.fromkeys(found))


def unreachable_state(target: Target, error: AwsFailure) -> BucketState:
    """Every facet of the target unread for the reason the endpoint could not be reached."""
    return failed_state(target, error.api, error.code, error.message)


def failed_state(target: Target, api: str, code: str, message: str) -> BucketState:
    """Every facet of the target unread for one reason (deadline passed, collector bug)."""
    facets = tuple((f, Unreadable(f, api, code, message)) for f in sorted(target.facets))
    return BucketState(target.name, "", target.region, target.listed is not False, facets)


_POLL = 0.25  # seconds between looks at the stop event while waiting for a read
_NOT_READ = {
    "DeadlineExceeded": "the run's deadline passed before this bucket was read",
    INTERRUPTED: "the run was interrupted before this bucket was read",
}


def collect(
    jobs: Iterable[tuple[Collector, Target]], concurrency: int = 32, deadline: float | None = None,
    stop: threading.Event | None = None,
) -> Iterator[BucketState]:
    """Read every target (each with its account's collector) with one bounded pool, in order.

    `deadline` is a time.monotonic() value: buckets not read by then come back with every
    facet Unreadable("DeadlineExceeded"), so the run still reports (and never hangs). Once
    `stop` is set (a signal), no new read is started and every bucket not read yet comes back
    Unreadable("Interrupted"); reads already done are kept.
    """
    # A window of submitted reads (not all of them at once) keeps memory flat: a bucket's
    # state is held only until it is yielded.
    window = max(1, concurrency) * 4
    pending: deque[tuple[Target, Future[BucketState]]] = deque()
    todo = iter(jobs)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="s3audit")

    def unread() -> str | None:
        if stop is not None and stop.is_set():
            return INTERRUPTED
        return "DeadlineExceeded" if deadline is not None and time.monotonic() >= deadline else None

    try:
        while True:
            if unread() is None:
                for collector, target in islice(todo, window - len(pending)):
                    pending.append((target, pool.submit(collector.bucket, target)))
            if not pending:
                break
            target, future = pending.popleft()
            try:
                yield _wait(future, deadline, stop)
            except FutureTimeout:
                code = unread() or "DeadlineExceeded"
                future.cancel()
                yield failed_state(target, "(run)", code, _NOT_READ[code])
            except Exception as exc:
                yield failed_state(target, "(collector)", type(exc).__name__, str(exc))
        code = unread() or "DeadlineExceeded"
        for _, target in todo:  # the deadline passed (or a signal came) before these started
            yield failed_state(target, "(run)", code, _NOT_READ[code])
    finally:
        # In-flight reads end by their own connect/read timeouts; queued ones are dropped.
        pool.shutdown(wait=unread() is None and deadline is None, cancel_futures=True)


def _wait(future: Future[BucketState], deadline: float | None,
          stop: threading.Event | None) -> BucketState:
    """The future's state; FutureTimeout once the deadline passes or `stop` is set."""
    while True:
        if stop is not None and stop.is_set() and not future.done():
            raise FutureTimeout
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        step = remaining if stop is None else min(_POLL, remaining if remaining is not None else _POLL)
        try:
            return future.result(timeout=step)
        except FutureTimeout:
            if remaining is not None and step is not None and remaining <= step:
                raise
