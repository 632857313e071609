"""The collector: reads, read-only, exactly the facets each bucket's controls need."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from auditor.causes import UNREACHABLE
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
from auditor.collect.read import call, client_caller, failure, paged
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
    Skip,
    Unreadable,
)
from auditor.shapes import kms_region

__all__ = ["AwsConfig", "Clients", "Collector", "Listing", "Target", "collect", "failed_state",
           "unreachable_state"]

_KEY_ARN_PREFIX = "arn:aws:kms:"
# ListBuckets answers BucketRegion only when the request carries a parameter; MaxBuckets
# (at most 10,000) is the one that pages. https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
PAGE_SIZE = 10_000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Target:
    """One bucket to audit, and what to read of it."""

    name: str
    listed: bool | None  # None: the listing failed, so existence is learnt by reading
    region: str | None = None
    facets: frozenset[Facet] = frozenset()
    kms_refs: tuple[str, ...] = ()
    objects: tuple[ObjectQuery, ...] = ()  # what the objects facet reads (from the spec)
    # Facets that may go unread, with every reader's Skip (see engine.skips).
    skips: tuple[tuple[Facet, tuple[Skip, ...]], ...] = ()


# botocore's names for "could not talk to the endpoint at all" (after its retries).
UNREACHABLE_CODES = UNREACHABLE


@dataclass(frozen=True, slots=True)
class Listing:
    buckets: tuple[tuple[str, str | None], ...] = ()
    error: AwsFailure | None = None

    @property
    def unreachable(self) -> bool:
        return self.error is not None and self.error.code in UNREACHABLE_CODES


class _Once:
    """One value computed by the first caller; the others wait for it (single flight)."""

    __slots__ = ("done", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None


@dataclass
class Collector:
    """Reads buckets through shared clients; account-wide facts are read once and cached."""

    clients: Clients
    deadline: float | None = None  # time.monotonic(): run-level reads give up waiting then
    # Told every account and principal state made (a --save-state writer); None: nobody.
    record: Callable[[AccountState | PrincipalState], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _flights: dict[tuple[object, ...], _Once] = field(default_factory=dict)

    def list_buckets(self) -> Listing:
        """Every bucket of the account, with its region where ListBuckets reports it."""
        client = self.clients.client("s3")
        try:
            names = _paged_listing(client)
        except Exception as exc:
            listing = Listing(error=failure(exc, LIST_BUCKETS.api))
            if listing.unreachable and listing.error is not None:
                error = listing.error  # nothing answers: don't spend another retry budget on STS
                self._single(("account",), lambda: error)
            return listing
        return Listing(buckets=names)

    def account_id(self) -> str | AwsFailure:
        """The caller's account id from STS, read once."""
        def read() -> str | AwsFailure:
            raw = call(self.clients.client("sts"), CALLER_IDENTITY)
            return raw if isinstance(raw, AwsFailure) else str((raw or {}).get("Account", ""))

        return self._single(("account",), read)

    def known_account_id(self) -> str | None:
        """The account id if it was read already; never calls AWS."""
        with self._lock:
            flight = self._flights.get(("account",))
        done = flight is not None and flight.done.is_set()
        return flight.value if done and isinstance(flight.value, str) and flight.value else None  # type: ignore[union-attr]

    def account(self, facets: frozenset[Facet]) -> AccountState:
        """The account's own (account-scope) facets; never raises."""
        account = self.account_id()
        values = tuple((f, self.account_facet(f, account)) for f in sorted(facets))
        return self._recorded(AccountState(account if isinstance(account, str) else "", values))  # type: ignore[no-any-return]

    def _recorded(self, state: Any) -> Any:
        if self.record is not None:
            self.record(state)
        return state

    def prepared(self, target: Target) -> BucketState | None:
        """The target's state without reading, where this collector already has it (a saved
        state: auditor.run.state); None: read it."""
        return None

    def bucket(self, target: Target) -> BucketState:
        """Read one bucket's needed facets, one after another (for `init` and tests)."""
        from auditor.collect.schedule import BucketRead

        return BucketRead(self, target, lambda task: task()).run_inline()

    def read(self, spec: FacetSpec, region: str | None, bucket: str) -> FacetValue:
        """One bucket facet, parsed; never raises for AWS trouble. A plain GET of S3 goes the
        lean read path; paged, parameterised and other services' reads go through botocore."""
        if spec.service == "s3" and spec.pages is None and not spec.params:
            return _parsed(spec, self.clients.lean.read(spec, region, bucket))
        return self._read(spec, region, Bucket=bucket)

    def absence(self, name: str) -> Absence:
        """Why a bucket no audited account lists is not there: HeadBucket 404 or 403."""
        raw = call(self.clients.client("s3"), HEAD_BUCKET, Bucket=name)
        if not isinstance(raw, AwsFailure):
            return Absence.ELSEWHERE  # readable, yet no audited account lists it
        if raw.code in ("404", "NoSuchBucket", "NotFound"):
            return Absence.MISSING
        return Absence.ELSEWHERE if raw.code in ("403", "AccessDenied", "Forbidden") else Absence.UNKNOWN

    def key_aliases(self, arn: str, region: str | None) -> tuple[str, ...]:
        """The alias names of a KMS key (customer aliases first), once per key and run;
        () when they cannot be read."""
        def read() -> tuple[str, ...]:
            raw = call(self.clients.client("kms", region), LIST_ALIASES, KeyId=arn)
            if isinstance(raw, AwsFailure) or raw is None:
                return ()
            found = [str(a["AliasName"]) for a in raw.get("Aliases", []) if a.get("AliasName")]
            return tuple(sorted(found, key=lambda n: (n.startswith("alias/aws/"), n)))

        names = self._single(("aliases", region, arn), read)
        return names if isinstance(names, tuple) else ()

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
        value = _parsed(spec, read_role(client_caller(self.clients.client(spec.service)), role))
        if isinstance(value, Role) and value.arn:
            arn = value.arn
        return self._recorded(PrincipalState(role, account_id, arn, ((Facet.ROLE, value),)))  # type: ignore[no-any-return]

    def _read(self, spec: FacetSpec, region: str | None, **params: Any) -> FacetValue:
        client = self.clients.client(spec.service, region)
        params = {**dict(spec.params), **params}
        if spec.pages is not None:
            raw = paged(client_caller(client), spec, spec.pages, **params)
        else:
            raw = call(client, spec, **params)
        return _parsed(spec, raw)

    def _single(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """`compute()` once per key and run; concurrent callers wait for the first one (up to
        the deadline, after which they get a DeadlineExceeded failure)."""
        with self._lock:
            flight = self._flights.get(key)
            first = flight is None
            if flight is None:
                flight = self._flights[key] = _Once()
        if first:
            def run() -> None:
                try:
                    flight.value = compute()
                except Exception as exc:  # a bug: every waiter gets it as a failure
                    flight.value = AwsFailure("(collector)", type(exc).__name__, str(exc))
                    self.forget(key)
                flight.done.set()

            if self.deadline is None:
                run()
            else:  # bounded by the deadline whatever the endpoint does
                threading.Thread(target=run, daemon=True).start()
        if not flight.done.wait(None if self.deadline is None else max(0.0, self.deadline - time.monotonic())):
            return AwsFailure("(run)", "DeadlineExceeded", "the run's deadline passed before "
                              "this shared read answered")  # type: ignore[return-value]
        return flight.value  # type: ignore[no-any-return]

    def forget(self, key: tuple[object, ...]) -> None:
        with self._lock:
            self._flights.pop(key, None)

    def account_facet(self, facet: Facet, account: str | AwsFailure) -> FacetValue:
        """An account-scope facet, read once per account and run (shared by its buckets)."""
        spec = FACETS[facet]
        if isinstance(account, AwsFailure):
            return Unreadable(facet, account.api, account.code, account.message)
        value = self._single(("facet", facet, account), lambda: (
            self._trails(spec) if facet is Facet.TRAILS else self._read(spec, None, AccountId=account)))
        result: FacetValue = _unreadable(facet, value)
        return result

    def _trails(self, spec: FacetSpec) -> FacetValue:
        def caller(region: str | None) -> Any:
            return client_caller(self.clients.client(spec.service, region))

        return _parsed(spec, read_trails(caller, None))

    def access_points(self, bucket: str, region: str | None, account: str | AwsFailure) -> FacetValue:
        spec = FACETS[Facet.ACCESS_POINTS]
        if isinstance(account, AwsFailure):  # S3 Control calls name the account
            return Unreadable(spec.facet, account.api, account.code, account.message)
        caller = client_caller(self.clients.client(spec.service, region))
        return _parsed(spec, read_access_points(caller, account, bucket))

    def regional_facet(self, facet: Facet, region: str | None, bucket: str) -> FacetValue:
        """A region-wide listing (CloudWatch alarms), read once per region and run (single
        flight), and the part of it about this bucket."""
        value = _unreadable(facet, self._single(("region", facet, region),
                                                lambda: self._read(FACETS[facet], region)))
        if isinstance(value, tuple) and facet is Facet.ALARMS:
            return parse.bucket_alarms(value, bucket)
        result: FacetValue = value
        return result

    def objects(self, target: Target, region: str | None) -> FacetValue:
        spec = FACETS[Facet.OBJECTS]
        caller = client_caller(self.clients.client(spec.service, region))
        return _parsed(spec, read_objects(caller, target.name, target.objects))

    def kms_keys(self, target: Target, values: tuple[FacetValue, ...],
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
        """The key ARN `ref` names: one DescribeKey per key and region per run, however many
        buckets ask at once; a failure is not kept (the next bucket asks again)."""
        if ref.startswith(_KEY_ARN_PREFIX) and ":key/" in ref:
            return ref
        spec = FACETS[Facet.KMS_KEYS]

        def describe() -> str | None | Unreadable:
            raw = call(self.clients.client("kms", region), spec, KeyId=ref)
            if isinstance(raw, AwsFailure):
                return Unreadable(spec.facet, raw.api, raw.code, raw.message)
            try:
                return None if raw is None else str(raw["KeyMetadata"]["Arn"])
            except (KeyError, TypeError) as exc:
                return Unreadable(spec.facet, spec.api, "MalformedResponse",
                                  f"no KeyMetadata.Arn in the answer ({type(exc).__name__}: {exc})")

        key = ("kms", region, ref)
        arn = self._single(key, describe)
        if isinstance(arn, Unreadable | AwsFailure):
            self.forget(key)
        result: str | None | Unreadable = _unreadable(spec.facet, arn)
        return result


def _unreadable(facet: Facet, value: Any) -> Any:
    """A run-level failure handed back by a shared read, as this facet's Unreadable."""
    if isinstance(value, AwsFailure):
        return Unreadable(facet, value.api, value.code, value.message)
    return value


def _parsed(spec: FacetSpec, raw: Any) -> FacetValue:
    if isinstance(raw, AwsFailure):
        return Unreadable(spec.facet, raw.api, raw.code, raw.message)
    try:
        return spec.parse(raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # An unexpected answer is still an error, never a pass.
        return Unreadable(spec.facet, spec.api, "MalformedResponse", f"{type(exc).__name__}: {exc}")


def _paged_listing(client: Any) -> tuple[tuple[str, str | None], ...]:
    """ListBuckets with MaxBuckets (so AWS answers BucketRegion), following continuation tokens.

    Guard: an endpoint that ignores paging (moto 5 answers the first MaxBuckets buckets and no
    token) would hide every bucket past the page from `managed`; a full last page without a
    token is therefore checked against one listing without a page size.
    """
    pages = client.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": PAGE_SIZE})
    found: dict[str, str | None] = {}
    last = 0
    for page in pages:
        entries = page.get("Buckets", [])
        last = len(entries)
        for b in entries:
            found[b["Name"]] = b.get("BucketRegion")
    if last >= PAGE_SIZE:
        for b in client.list_buckets().get("Buckets", []):
            found.setdefault(b["Name"], b.get("BucketRegion"))
    return tuple(found.items())


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


def collect(*args: Any, **kwargs: Any) -> Any:
    """See auditor.collect.schedule.collect (imported lazily: it starts threads)."""
    from auditor.collect.schedule import collect as scheduled

    return scheduled(*args, **kwargs)
