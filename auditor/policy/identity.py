"""What a principal's identity policies allow on S3, compared with an exact allow-list.

Pure. The action dimension is finite: every S3 action (the catalogue below, plus any literal
`s3:` action a policy or the spec names) is judged on its own. The resource dimension is a
wildcard language per action, decided exactly with `auditor.policy.globs` (inclusion,
intersection, a witness string). IAM's rules: an explicit Deny wins; identity policies are a
union of Allows; a permissions boundary caps them (a request must be allowed by both).
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditor.model import Condition, PolicyDocument, Statement
from auditor.policy.globs import Lang, action_matches, covers, intersects, witness

# S3 actions, from the Service Authorization Reference ("Actions defined by Amazon S3").
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
_VERBS = {
    "Get": ("AccelerateConfiguration", "AccessGrant", "AccessGrantsInstance", "AccessGrantsInstanceForPrefix",
            "AccessGrantsInstanceResourcePolicy", "AccessGrantsLocation", "AccessPoint",
            "AccessPointConfigurationForObjectLambda", "AccessPointForObjectLambda", "AccessPointPolicy",
            "AccessPointPolicyForObjectLambda", "AccessPointPolicyStatus",
            "AccessPointPolicyStatusForObjectLambda", "AccountPublicAccessBlock", "AnalyticsConfiguration",
            "BucketAcl", "BucketCORS", "BucketLocation", "BucketLogging", "BucketMetadataTableConfiguration",
            "BucketNotification", "BucketObjectLockConfiguration", "BucketOwnershipControls", "BucketPolicy",
            "BucketPolicyStatus", "BucketPublicAccessBlock", "BucketRequestPayment", "BucketTagging",
            "BucketVersioning", "BucketWebsite", "DataAccess", "EncryptionConfiguration",
            "IntelligentTieringConfiguration", "InventoryConfiguration", "JobTagging", "LifecycleConfiguration",
            "MetricsConfiguration", "MultiRegionAccessPoint", "MultiRegionAccessPointPolicy",
            "MultiRegionAccessPointPolicyStatus", "MultiRegionAccessPointRoutes", "Object", "ObjectAcl",
            "ObjectAttributes", "ObjectLegalHold", "ObjectRetention", "ObjectTagging", "ObjectTorrent",
            "ObjectVersion", "ObjectVersionAcl", "ObjectVersionAttributes", "ObjectVersionForReplication",
            "ObjectVersionTagging", "ObjectVersionTorrent", "ReplicationConfiguration",
            "StorageLensConfiguration", "StorageLensConfigurationTagging", "StorageLensDashboard",
            "StorageLensGroup"),
    "Put": ("AccelerateConfiguration", "AccessGrantsInstanceResourcePolicy",
            "AccessPointConfigurationForObjectLambda", "AccessPointPolicy", "AccessPointPolicyForObjectLambda",
            "AccessPointPublicAccessBlock", "AccountPublicAccessBlock", "AnalyticsConfiguration", "BucketAcl",
            "BucketCORS", "BucketLogging", "BucketNotification", "BucketObjectLockConfiguration",
            "BucketOwnershipControls", "BucketPolicy", "BucketPublicAccessBlock", "BucketRequestPayment",
            "BucketTagging", "BucketVersioning", "BucketWebsite", "EncryptionConfiguration",
            "IntelligentTieringConfiguration", "InventoryConfiguration", "JobTagging", "LifecycleConfiguration",
            "MetricsConfiguration", "MultiRegionAccessPointPolicy", "Object", "ObjectAcl", "ObjectLegalHold",
            "ObjectRetention", "ObjectTagging", "ObjectVersionAcl", "ObjectVersionTagging",
            "ReplicationConfiguration", "StorageLensConfiguration", "StorageLensConfigurationTagging"),
    "Delete": ("AccessGrant", "AccessGrantsInstance", "AccessGrantsInstanceResourcePolicy", "AccessGrantsLocation",
               "AccessPoint", "AccessPointForObjectLambda", "AccessPointPolicy", "AccessPointPolicyForObjectLambda",
               "Bucket", "BucketMetadataTableConfiguration", "BucketOwnershipControls", "BucketPolicy",
               "BucketWebsite", "JobTagging", "MultiRegionAccessPoint", "Object", "ObjectTagging",
               "ObjectVersion", "ObjectVersionTagging", "StorageLensConfiguration",
               "StorageLensConfigurationTagging", "StorageLensGroup"),
    "List": ("AccessGrants", "AccessGrantsInstances", "AccessGrantsLocations", "AccessPoints",
             "AccessPointsForObjectLambda", "AllMyBuckets", "Bucket", "BucketMultipartUploads",
             "BucketVersions", "CallerAccessGrants", "Jobs", "MultiRegionAccessPoints",
             "MultipartUploadParts", "StorageLensConfigurations", "StorageLensGroups", "TagsForResource"),
    "Create": ("AccessGrant", "AccessGrantsInstance", "AccessGrantsLocation", "AccessPoint",
               "AccessPointForObjectLambda", "Bucket", "BucketMetadataTableConfiguration", "Job",
               "MultiRegionAccessPoint", "StorageLensGroup"),
    "": ("AbortMultipartUpload", "AssociateAccessGrantsIdentityCenter", "BypassGovernanceRetention",
         "DescribeJob", "DescribeMultiRegionAccessPointOperation", "DissociateAccessGrantsIdentityCenter",
         "InitiateReplication", "ObjectOwnerOverrideToBucketOwner", "PauseReplication", "ReplicateDelete",
         "ReplicateObject", "ReplicateTags", "RestoreObject", "SubmitMultiRegionAccessPointRoutes",
         "TagResource", "UntagResource", "UpdateAccessGrantsLocation", "UpdateJobPriority",
         "UpdateJobStatus", "UpdateStorageLensGroup"),
}
S3_ACTIONS: tuple[str, ...] = tuple(sorted(f"s3:{verb}{noun}" for verb, nouns in _VERBS.items() for noun in nouns))
# "_" in an example stands for any character the patterns do not name.
_S3_ARNS = (Lang.of(["arn:aws:s3:::?*"], fold=False), Lang.of(["arn:*"], fold=False))


def parse_identity_policy(text: str) -> PolicyDocument:
    """An identity policy (no Principal element) as a `PolicyDocument`; ValueError when it is not
    JSON or its statements are not objects.

    IAM validates identity policies when they are written, so a live one is well-formed; should
    one not be, a statement grants as widely as its elements allow and never counts as a Deny
    unless its Effect is exactly "Deny" (a missing Action or Resource means everything).
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"identity policy is not valid JSON: {exc}") from exc
    body = raw.get("Statement") if isinstance(raw, dict) else None
    body = [body] if isinstance(body, dict) else body
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ValueError("identity policy needs a Statement object or a list of objects")
    return PolicyDocument(tuple(_statement(item) for item in body), text)


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


def _statement(raw: dict[str, Any]) -> Statement:
    conditions = []
    for operator, tests in (raw.get("Condition") or {}).items():
        for key, values in (tests.items() if isinstance(tests, dict) else ()):
            listed = values if isinstance(values, list) else [values]
            conditions.append(Condition(str(operator), str(key).lower(),
                                        tuple(json.dumps(v) if isinstance(v, bool) else str(v) for v in listed)))
    return Statement(
        effect="Deny" if raw.get("Effect") == "Deny" else "Allow",
        sid=raw.get("Sid") if isinstance(raw.get("Sid"), str) else None,
        actions=_strings(raw.get("Action")), not_actions=_strings(raw.get("NotAction")),
        resources=_strings(raw.get("Resource")), not_resources=_strings(raw.get("NotResource")),
        conditions=tuple(conditions),
    )


@dataclass(frozen=True, slots=True)
class Grant:
    """One item of the spec's allow-list: these actions on these resources."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Extra:
    """An action the policies allow on resources beyond the spec: the allowing pattern, an
    example resource the spec does not list, and the policy that allows it."""

    action: str
    resource: str
    example: str
    policy: str
    conditional: bool = False


@dataclass(frozen=True, slots=True)
class Missing:
    """An action x resource the spec requires that the policies do not (wholly) allow."""

    action: str
    resource: str
    why: str


@dataclass(frozen=True, slots=True)
class Access:
    extra: tuple[Extra, ...] = ()
    missing: tuple[Missing, ...] = ()
    notes: tuple[str, ...] = ()


Named = tuple[str, PolicyDocument]  # (policy label, document)


def _actions_of(st: Statement, action: str) -> bool:
    if st.actions is not None:
        return any(action_matches(p, action) for p in st.actions)
    if st.not_actions is not None:
        return not any(action_matches(p, action) for p in st.not_actions)
    return True  # no Action at all: IAM would refuse it; it grants as widely as it can


def _resources_of(st: Statement) -> tuple[str, Lang]:
    if st.resources is not None:
        return ", ".join(st.resources), Lang.of(st.resources, fold=False)
    if st.not_resources is not None:
        return f"NotResource {', '.join(st.not_resources)}", Lang.of(st.not_resources, fold=False, negated=True)
    return "*", Lang.of(["*"], fold=False)


@dataclass(frozen=True, slots=True)
class _Allow:
    policy: str
    pattern: str
    lang: Lang
    statement: Statement


def _allows(policies: Sequence[Named], action: str) -> list[_Allow]:
    out = []
    for label, doc in policies:
        for st in doc.statements:
            if st.effect == "Allow" and _actions_of(st, action):
                if st.resources is not None:  # one per pattern, so a drift names the one that is too wide
                    out += [_Allow(label, p, Lang.of([p], fold=False), st) for p in st.resources]
                else:
                    out.append(_Allow(label, *_resources_of(st), st))
    return out


def _denies(policies: Sequence[Named], action: str) -> list[Lang]:
    # Only an unconditional Deny takes access away for certain; a conditional one may not apply.
    return [_resources_of(st)[1] for _, doc in policies for st in doc.statements
            if st.effect == "Deny" and not st.conditions and _actions_of(st, action)]


def _universe(policies: Sequence[Named], spec: Sequence[Grant]) -> list[str]:
    found = {a.lower(): a for a in S3_ACTIONS}
    literal = [p for _, d in policies for st in d.statements for p in (st.actions or ())]
    literal += [a for g in spec for a in g.actions]
    for name in literal:
        if name.lower().startswith("s3:") and "*" not in name and "?" not in name:
            found.setdefault(name.lower(), name)
    return sorted(found.values())


def _example(must: Sequence[Lang], must_not: Sequence[Lang]) -> str | None:
    for frame in (*_S3_ARNS, None):  # prefer an S3 ARN as the example, then any ARN
        found = witness([*must, *([frame] if frame else [])], must_not)
        if found is not None:
            return found
    return None


def compare(spec: Sequence[Grant], policies: Sequence[Named], boundary: Named | None = None) -> Access:
    """Every action x resource the policies allow beyond `spec`, and every one `spec` requires
    that they do not allow."""
    extra: list[Extra] = []
    missing: list[Missing] = []
    limits = [boundary] if boundary is not None else []
    for action in _universe(policies, spec):
        wanted = [Lang.of(g.resources, fold=False) for g in spec
                  if any(action_matches(p, action) for p in g.actions)]
        denies = _denies([*policies, *limits], action)
        allows = _allows(policies, action)
        capped = _allows(limits, action) if boundary is not None else None
        for allow in allows:
            caps = [c.lang for c in capped] if capped is not None else [None]
            for cap in caps:
                found = _example([allow.lang, *([cap] if cap else [])], [*wanted, *denies])
                if found is not None:
                    extra.append(Extra(action, allow.pattern, found, allow.policy, bool(allow.statement.conditions)))
                    break
        for g in spec:
            if not any(action_matches(p, action) for p in g.actions):
                continue
            for resource in g.resources:
                why = _gap(Lang.of([resource], fold=False), allows, capped, denies)
                if why:
                    missing.append(Missing(action, resource, why))
    notes = [f"{label}: a conditional Deny is not counted as taking access away"
             for label, doc in (*policies, *limits) if any(s.effect == "Deny" and s.conditions for s in doc.statements)]
    return Access(tuple(extra), tuple(missing), tuple(dict.fromkeys(notes)))


def _gap(target: Lang, allows: list[_Allow], capped: list[_Allow] | None, denies: list[Lang]) -> str | None:
    if not allows:
        return "no policy allows it"
    if not covers(target, [a.lang for a in allows]):
        return "the policies allow it only on part of the resource"
    if capped is not None and not covers(target, [a.lang for a in capped]):
        return "the permissions boundary does not allow it"
    if any(intersects(target, d) for d in denies):
        return "an explicit Deny takes it away"
    return None
