"""Every shared data type: specs, collected state, outcomes and reports.

Frozen dataclasses only; no I/O and no logic beyond small properties. Spec-side and
live-side values share one type wherever AWS and the spec describe the same thing
(lifecycle rules, CORS rules), so a comparison is plain equality of normalised values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeAlias


class Status(StrEnum):
    PASS = "pass"
    DRIFT = "drift"
    ERROR = "error"
    WAIVED = "waived"  # a drift or error covered by an unexpired waiver


class Change(StrEnum):
    """How a result compares with the baseline run."""

    NEW = "new"
    PERSISTING = "persisting"
    RESOLVED = "resolved"


class Scope(StrEnum):
    """What a result is about: one bucket, a whole account, or an IAM principal."""

    BUCKET = "bucket"
    ACCOUNT = "account"
    PRINCIPAL = "principal"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Facet(StrEnum):
    """One readable piece of a bucket's (or its account's) configuration."""

    LOCATION = "location"
    VERSIONING = "versioning"
    ENCRYPTION = "encryption"
    KMS_KEYS = "kms_keys"
    PUBLIC_ACCESS_BLOCK = "public_access_block"
    ACCOUNT_PUBLIC_ACCESS_BLOCK = "account_public_access_block"
    POLICY = "policy"
    ACL = "acl"
    OWNERSHIP = "ownership"
    LIFECYCLE = "lifecycle"
    CORS = "cors"
    WEBSITE = "website"
    REQUEST_METRICS = "request_metrics"
    OBJECTS = "objects"  # object metadata (HeadObject), for the keys and prefixes a spec names
    ALARMS = "alarms"  # the CloudWatch metric alarms on this bucket's S3 metrics
    ROLE = "role"  # an IAM role and its policies (principal scope)
    LOGGING = "logging"
    OBJECT_LOCK = "object_lock"
    REPLICATION = "replication"
    TAGS = "tags"
    NOTIFICATIONS = "notifications"
    ACCESS_POINTS = "access_points"
    TRAILS = "trails"  # the account's CloudTrail trails, their status and event selectors


VersioningStatus: TypeAlias = Literal["Enabled", "Suspended", "Disabled"]
PublicAccessLevel: TypeAlias = Literal["none", "read"]


# --------------------------------------------------------------------------- shared values


@dataclass(frozen=True, slots=True)
class Transition:
    storage_class: str
    days: int | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class NoncurrentTransition:
    storage_class: str
    days: int
    newer_versions: int | None = None


@dataclass(frozen=True, slots=True)
class LifecycleRule:
    """A lifecycle rule, normalised: tuples sorted, absent actions None, prefix '' = whole bucket."""

    id: str
    status: Literal["Enabled", "Disabled"] = "Enabled"
    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    object_size_greater_than: int | None = None
    object_size_less_than: int | None = None
    transitions: tuple[Transition, ...] = ()
    expiration_days: int | None = None
    expiration_date: str | None = None
    expired_object_delete_marker: bool | None = None
    noncurrent_expiration_days: int | None = None
    noncurrent_newer_versions: int | None = None
    noncurrent_transitions: tuple[NoncurrentTransition, ...] = ()
    abort_incomplete_multipart_upload_days: int | None = None


@dataclass(frozen=True, slots=True)
class CorsRule:
    """A CORS rule with its lists as sorted tuples (AWS gives them no order)."""

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class RedirectAll:
    host_name: str
    protocol: str | None = None


@dataclass(frozen=True, slots=True)
class PublicAccessBlock:
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a spec stated something: file, 1-based line and column."""

    file: str
    line: int
    column: int = 1


@dataclass(frozen=True, slots=True)
class SpecEntry:
    """One entry of a spec file: an exact `name` (bucket name, account id) or a `match` glob,
    and what it requires.

    `wants` holds each stated control key with its built value, in registry order; a key
    that is not there was not stated and is not checked. `sources` maps each stated key (and
    "name"/"match"/"severity") to where it was written.
    """

    scope: Scope = Scope.BUCKET
    name: str | None = None
    match: str | None = None
    wants: tuple[tuple[str, object], ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()  # per-control overrides of the default
    overrides: tuple[str, ...] = ()  # keys this entry deliberately replaces in a baseline
    sources: tuple[tuple[str, SourceRef], ...] = ()

    @property
    def label(self) -> str:
        return self.name if self.name is not None else f"match {self.match}"

    def source(self, key: str) -> SourceRef | None:
        return dict(self.sources).get(key)

    def stated(self) -> tuple[str, ...]:
        """The control keys this entry states, in registry order."""
        return tuple(key for key, _ in self.wants)

    def want(self, key: str) -> object | None:
        """The built value of a stated control key; None when the key is not stated."""
        for stated, value in self.wants:
            if stated == key:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted exception: results of `control` on buckets matching `bucket` until `expires`."""

    bucket: str  # a name or a glob
    control: str
    reason: str
    expires: str  # YYYY-MM-DD, the last day the waiver applies
    owner: str
    ticket: str | None = None
    source: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class SpecSet:
    """Everything loaded from the spec files: exact entries and glob baselines, in file order."""

    entries: tuple[SpecEntry, ...] = ()
    files: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    warnings: tuple[str, ...] = ()  # lint findings that do not stop the audit, as file:line: text
    notes: tuple[str, ...] = ()  # advice below a warning (shown by `validate` only)

    @property
    def buckets(self) -> tuple[SpecEntry, ...]:
        return tuple(e for e in self.entries if e.scope is Scope.BUCKET)

    @property
    def accounts(self) -> tuple[SpecEntry, ...]:
        return tuple(e for e in self.entries if e.scope is Scope.ACCOUNT)

    @property
    def principals(self) -> tuple[SpecEntry, ...]:
        return tuple(e for e in self.entries if e.scope is Scope.PRINCIPAL)


# --------------------------------------------------------------------------- IAM policies


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition test: operator as written (e.g. "ForAnyValue:StringLikeIfExists"),
    key lower-cased (IAM keys are case-insensitive), values as strings (JSON true -> "true")."""

    operator: str
    key: str
    values: tuple[str, ...]
    spelled: str = field(default="", compare=False)  # the key as written, for messages

    @property
    def name(self) -> str:
        return self.spelled or self.key


@dataclass(frozen=True, slots=True)
class Principal:
    """A Principal / NotPrincipal element: ("*",) for the bare string, else (type, value) pairs."""

    wildcard: bool = False
    entries: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    """One policy statement as written. `problems` lists why S3 would refuse it ("" none): a
    statement with problems is still kept and judged (see auditor.policy), never dropped."""

    effect: str  # "Allow" | "Deny" when well-formed; as written (or "") otherwise
    sid: str | None = None
    principal: Principal | None = None
    not_principal: Principal | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    problems: tuple[str, ...] = ()
    index: int = 0  # 1-based position in the document (0 = unknown)

    @property
    def malformed(self) -> bool:
        return bool(self.problems)

    @property
    def label(self) -> str:
        """How messages name it: statement 'Sid', or statement #n by position."""
        if self.sid:
            return f"statement {self.sid!r}"
        return f"statement #{self.index}" if self.index else "a statement without Sid"


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    statements: tuple[Statement, ...]
    text: str = ""
    problems: tuple[str, ...] = ()  # document-level: no Statement, unknown top-level element ...


# --------------------------------------------------------------------------- live state


@dataclass(frozen=True, slots=True)
class MetricsFilter:
    """One request-metrics configuration of a bucket (its id is the alarm's FilterId)."""

    id: str
    prefix: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    access_point: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """What the objects facet reads: one named key, or the newest `sample` keys under `prefix`
    (leaving out `skip`, the keys named on their own)."""

    key: str | None = None
    prefix: str | None = None
    sample: int = 5
    skip: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """HeadObject of one key; `exists` False when S3 says there is no such key."""

    key: str
    exists: bool = True
    cache_control: str | None = None
    content_type: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class PrefixSample:
    """The keys sampled under a prefix (newest first), and how many the listing held."""

    prefix: str
    keys: tuple[str, ...] = ()
    listed: int = 0


@dataclass(frozen=True, slots=True)
class Objects:
    heads: tuple[ObjectHead, ...] = ()
    samples: tuple[PrefixSample, ...] = ()

    def head(self, key: str) -> ObjectHead | None:
        for head in self.heads:
            if head.key == key:
                return head
        return None

    def sample(self, prefix: str) -> PrefixSample | None:
        for sample in self.samples:
            if sample.prefix == prefix:
                return sample
        return None


@dataclass(frozen=True, slots=True)
class MetricAlarm:
    """A CloudWatch metric alarm (DescribeAlarms MetricAlarms), dimensions sorted by name."""

    name: str
    namespace: str | None
    metric: str | None
    dimensions: tuple[tuple[str, str], ...] = ()
    threshold: float | None = None
    period: int | None = None
    statistic: str | None = None
    comparison: str | None = None
    evaluation_periods: int | None = None
    state: str | None = None
    actions_enabled: bool = True

    def dimension(self, name: str) -> str | None:
        return dict(self.dimensions).get(name)


@dataclass(frozen=True, slots=True)
class NamedPolicy:
    """One policy of a role: inline (`arn` None) or managed (its default version)."""

    name: str
    document: PolicyDocument
    arn: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """An IAM role with its inline and attached managed policies (None as a facet: no such role)."""

    name: str
    arn: str
    policies: tuple[NamedPolicy, ...] = ()
    boundary: NamedPolicy | None = None


@dataclass(frozen=True, slots=True)
class Versioning:
    status: VersioningStatus
    mfa_delete: bool = False


@dataclass(frozen=True, slots=True)
class Encryption:
    """Default encryption. kms_key is None for aws:kms without a key id (the AWS-managed key)."""

    algorithm: str
    kms_key: str | None = None
    bucket_key: bool = False


@dataclass(frozen=True, slots=True)
class KmsKey:
    """A KMS key reference resolved in the bucket's account and region."""

    ref: str
    arn: str | None  # None: KMS says no such key or alias
    region: str | None = None  # where it was resolved; None = the bucket's own region
    aliases: tuple[str, ...] = ()  # the key's alias names, where asked (ListAliases), for messages


@dataclass(frozen=True, slots=True)
class KmsKeys:
    """Every key reference the controls need (spec's and live), resolved where they live."""

    keys: tuple[KmsKey, ...] = ()

    def arn(self, ref: str, region: str | None = None) -> str | None:
        """The key ARN `ref` names in `region` (None: the bucket's region)."""
        for key in self.keys:
            if key.ref == ref and key.region == region:
                return key.arn
        return None

    def aliases(self, ref: str, region: str | None = None) -> tuple[str, ...]:
        """The alias names of the key `ref` names in `region`, where they were read."""
        for key in self.keys:
            if key.ref == ref and key.region == region:
                return key.aliases
        return ()


@dataclass(frozen=True, slots=True)
class Grant:
    grantee_type: str  # CanonicalUser | Group | AmazonCustomerByEmail
    grantee: str  # canonical id, group URI or e-mail
    permission: str  # READ | WRITE | READ_ACP | WRITE_ACP | FULL_CONTROL


@dataclass(frozen=True, slots=True)
class Acl:
    owner: str
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True, slots=True)
class Ownership:
    """Object ownership; "ObjectWriter" when no ownership controls are set (the legacy default)."""

    rule: str = "ObjectWriter"


@dataclass(frozen=True, slots=True)
class Website:
    index_document: str | None = None
    error_document: str | None = None
    redirect_all_requests_to: RedirectAll | None = None
    routing_rules: int = 0


@dataclass(frozen=True, slots=True)
class Logging:
    """Server access logging: where the logs go (GetBucketLogging's LoggingEnabled)."""

    target_bucket: str
    target_prefix: str = ""


@dataclass(frozen=True, slots=True)
class ObjectLock:
    """Object Lock, enabled, with its default retention when one is set."""

    mode: str | None = None  # GOVERNANCE | COMPLIANCE
    days: int | None = None
    years: int | None = None


@dataclass(frozen=True, slots=True)
class ReplicationRule:
    """One replication rule, normalised: destination by bucket name, absent settings None."""

    id: str
    status: Literal["Enabled", "Disabled"] = "Enabled"
    destination_bucket: str = ""
    destination_account: str | None = None
    storage_class: str | None = None
    replica_kms_key: str | None = None
    delete_marker_replication: bool | None = None
    prefix: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class NotificationTarget:
    """Where S3 sends events: the target ARN, the event types (sorted) and the key filter."""

    arn: str
    events: tuple[str, ...]
    prefix: str | None = None
    suffix: str | None = None


@dataclass(frozen=True, slots=True)
class Notifications:
    event_bridge: bool = False
    queues: tuple[NotificationTarget, ...] = ()
    topics: tuple[NotificationTarget, ...] = ()
    lambdas: tuple[NotificationTarget, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessPoint:
    name: str
    network_origin: str  # Internet | VPC
    vpc_id: str | None = None
    public_access_block: PublicAccessBlock | None = None


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """One field condition of a CloudTrail advanced event selector (values as given)."""

    field: str
    equals: tuple[str, ...] = ()
    starts_with: tuple[str, ...] = ()
    ends_with: tuple[str, ...] = ()
    not_equals: tuple[str, ...] = ()
    not_starts_with: tuple[str, ...] = ()
    not_ends_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventSelector:
    """A basic event selector: read/write type and its data resources (type, ARN values)."""

    read_write_type: str = "All"  # All | ReadOnly | WriteOnly
    data_resources: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Trail:
    """A CloudTrail trail as the data_events control judges it. `logging` is None where the
    status was not read (single-region trails, which cannot count)."""

    name: str
    arn: str
    home_region: str
    multi_region: bool
    logging: bool | None = None
    organization: bool = False
    selectors: tuple[EventSelector, ...] = ()
    advanced: tuple[tuple[FieldSelector, ...], ...] = ()  # advanced selectors: each ANDs its fields


@dataclass(frozen=True, slots=True)
class AwsFailure:
    """Why a read failed: the API operation, AWS's (or botocore's) error code, and its message."""

    api: str
    code: str
    message: str
    credentials: str | None = None  # for a credentials failure: whose (profile X, role ARN)

    def describe(self) -> str:
        whose = f" with {self.credentials}" if self.credentials else ""
        return f"{self.api} failed ({self.code}){whose}: {self.message}"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A facet that could not be read: the control that needs it is `error`, never `pass`."""

    facet: Facet
    api: str
    code: str
    message: str
    credentials: str | None = None  # as AwsFailure.credentials

    def describe(self) -> str:
        whose = f" with {self.credentials}" if self.credentials else ""
        return f"{self.api} failed ({self.code}){whose}: {self.message}"

    @property
    def failure(self) -> AwsFailure:
        return AwsFailure(self.api, self.code, self.message, self.credentials)


@dataclass(frozen=True, slots=True)
class NotRead:
    """A facet left unread because, given the facets read before it, no stated control's
    verdict can depend on it (an ACL under an effective IgnorePublicAcls). A check that
    declared the skip never looks at it; one that did would raise, and so be `error`."""

    facet: Facet
    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    """How a control lets a facet go unread: once the `after` facets are known,
    `unneeded(*their values)` gives the reason it cannot matter, or None (then it is read)."""

    facet: Facet
    after: tuple[Facet, ...]
    unneeded: Callable[..., str | None]


# What each facet parses to; `None` means "not configured" for the optional ones
# (no policy, no lifecycle/CORS configuration -> empty tuple, no website, no block).
FacetValue: TypeAlias = (
    NotRead | str | Versioning | Encryption | KmsKeys | PublicAccessBlock | PolicyDocument | Acl | Ownership
    | tuple[LifecycleRule, ...] | tuple[CorsRule, ...] | Website | tuple[MetricsFilter, ...]
    | Objects | tuple[MetricAlarm, ...] | Role | Logging | ObjectLock
    | tuple[ReplicationRule, ...] | tuple[tuple[str, str], ...] | Notifications
    | tuple[AccessPoint, ...] | tuple[Trail, ...] | Unreadable | None
)


class _Facets:
    """Lookup of collected facets, shared by bucket and account states."""

    __slots__ = ()
    facets: tuple[tuple[Facet, FacetValue], ...]

    def facet(self, facet: Facet) -> FacetValue:
        for key, value in self.facets:
            if key is facet:
                return value
        raise KeyError(facet)

    def has(self, facet: Facet) -> bool:
        return any(key is facet for key, _ in self.facets)


class Absence(StrEnum):
    """Why a spec'd bucket is in none of the audited accounts, as HeadBucket tells it."""

    MISSING = "missing"  # 404: no bucket of that name exists
    ELSEWHERE = "elsewhere"  # 403 or 200: it exists, owned by an account not audited
    UNKNOWN = "unknown"  # HeadBucket answered neither way


@dataclass(frozen=True, slots=True)
class BucketState(_Facets):
    """What the collector saw of one bucket. Facets not needed by any control are not read."""

    name: str
    account_id: str
    region: str | None
    exists: bool = True
    facets: tuple[tuple[Facet, FacetValue], ...] = ()
    absence: Absence | None = None  # for exists=False: why (None: gone between listing and read)


@dataclass(frozen=True, slots=True)
class AccountState(_Facets):
    """What the collector saw of one account's own (account-scope) configuration."""

    account_id: str
    facets: tuple[tuple[Facet, FacetValue], ...] = ()


@dataclass(frozen=True, slots=True)
class PrincipalState(_Facets):
    """What the collector saw of one IAM principal (a role, by name) in one account."""

    role: str  # the role's name
    account_id: str
    arn: str = ""  # the role's ARN (as IAM gives it, or as it would be when there is no such role)
    facets: tuple[tuple[Facet, FacetValue], ...] = ()


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Difference:
    """One way live differs from the spec: `path` names the rule/field ("" = the whole value)."""

    path: str
    expected: object
    actual: object
    message: str
    remediation: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a rule returns: the actual value it judged and every difference it found."""

    actual: object
    differences: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass(frozen=True, slots=True)
class Result:
    """One verdict. `bucket` is None for account- and principal-scope results."""

    bucket: str | None
    control: str
    status: Status
    severity: Severity
    rule_id: str
    expected: object
    actual: object
    message: str
    remediation: str | None = None
    account: str | None = None
    region: str | None = None
    differences: tuple[Difference, ...] = ()
    source: SourceRef | None = None
    change: Change | None = None
    first_seen: str | None = None
    waiver: Waiver | None = None
    scope: Scope = Scope.BUCKET
    error: AwsFailure | None = None  # for status error: the read that failed, when one did
    principal: str | None = None  # for scope principal: the IAM role ARN
    # framework name -> the framework's requirement ids this result evidences
    frameworks: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def subject(self) -> str:
        """What the result is about, for people: the bucket, the principal, or the account."""
        if self.bucket is not None:
            return self.bucket
        if self.principal is not None:
            return self.principal
        return f"account {self.account or '?'}"

    @property
    def key(self) -> str:
        """Stable identity of this check across runs: account, subject and control."""
        if self.scope is Scope.BUCKET:
            return f"{self.account or '-'}/{self.bucket}/{self.control}"
        subject = self.scope.value if self.principal is None else f"{self.scope.value}:{self.principal}"
        return f"{self.account or '-'}/{subject}/{self.control}"


@dataclass(frozen=True, slots=True)
class Summary:
    buckets: int
    passed: int
    drift: int
    error: int
    waived: int = 0

    @property
    def compliant(self) -> bool:
        return self.drift == 0 and self.error == 0


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One earlier (or the current) run of a history directory, as its summary counts."""

    generated_at: str
    passed: int
    drift: int
    error: int
    waived: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: str
    tool_version: str
    results: tuple[Result, ...]
    accounts: tuple[str, ...] = ()
    spec_files: tuple[str, ...] = ()
    endpoint_url: str | None = None
    duration_seconds: float | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())
    # Waivers that matched no failing result (stale exceptions to clean up), and the
    # baseline report the `change` of each result was computed against.
    unused_waivers: tuple[Waiver, ...] = ()
    baseline: str | None = None
    # The runs kept in --history, oldest first, this run included; empty without a history.
    trend: tuple[TrendPoint, ...] = ()

    @property
    def summary(self) -> Summary:
        live = [r for r in self.results if r.scope is Scope.BUCKET and r.bucket is not None]
        return Summary(
            buckets=len({(r.account, r.bucket) for r in live}),
            passed=sum(r.status is Status.PASS for r in self.results),
            drift=sum(r.status is Status.DRIFT for r in self.results),
            error=sum(r.status is Status.ERROR for r in self.results),
            waived=sum(r.status is Status.WAIVED for r in self.results),
        )
