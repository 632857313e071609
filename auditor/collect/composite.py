"""Facets assembled from several calls: object metadata (list, then HeadObject each) and an IAM
role with its policies. Each reader takes a `Caller`, so the case tests feed recorded answers
through exactly this code; the result is the raw dict the facet's parser reads, None when
the subject does not exist, or the first failure (the control is then `error`, never `pass`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from auditor.collect.facets import (
    FACETS,
    GET_ACCESS_POINT,
    IAM_ROLE_CALLS,
    LIST_OBJECTS,
    TRAIL_CALLS,
    Pages,
)
from auditor.collect.read import Caller, paged
from auditor.model import AwsFailure, Facet, ObjectQuery

Raw = Mapping[str, Any]
HEAD_OBJECT = FACETS[Facet.OBJECTS]
GET_ROLE = FACETS[Facet.ROLE]
LIST_ACCESS_POINTS = FACETS[Facet.ACCESS_POINTS]
DESCRIBE_TRAILS = FACETS[Facet.TRAILS]
GET_TRAIL_STATUS, GET_EVENT_SELECTORS = TRAIL_CALLS
LIST_ROLE_POLICIES, GET_ROLE_POLICY, LIST_ATTACHED, GET_POLICY, GET_POLICY_VERSION = IAM_ROLE_CALLS
_OBJECT_PAGES = Pages("ContinuationToken", "NextContinuationToken", "Contents")
_IAM_PAGES = {"PolicyNames": Pages("Marker", "Marker", "PolicyNames"),
              "AttachedPolicies": Pages("Marker", "Marker", "AttachedPolicies")}


def newest(contents: Iterable[Raw], count: int, skip: Sequence[str] = ()) -> list[str]:
    """The `count` most recently modified keys (ties by key), leaving out `skip`."""
    entries = [c for c in contents if str(c.get("Key")) not in skip and not str(c.get("Key")).endswith("/")]
    entries.sort(key=lambda c: (str(c.get("LastModified", "")), str(c.get("Key"))), reverse=True)
    return [str(c["Key"]) for c in entries[:count]]


def read_objects(caller: Caller, bucket: str, queries: Sequence[ObjectQuery]) -> Raw | AwsFailure:
    """{"Heads": {key: HeadObject answer, or None for no such key}, "Samples": {prefix: ...}}."""
    heads: dict[str, Raw | None] = {}
    samples: dict[str, Raw] = {}
    for query in queries:
        keys = [query.key] if query.key is not None else []
        if query.prefix is not None:
            listing = paged(caller, LIST_OBJECTS, _OBJECT_PAGES, Bucket=bucket, Prefix=query.prefix)
            if isinstance(listing, AwsFailure):
                return listing
            contents = list((listing or {}).get("Contents", []))
            keys = newest(contents, query.sample, query.skip)
            samples[query.prefix] = {"Keys": keys, "Listed": len(contents),
                                     "Truncated": bool((listing or {}).get("truncated"))}
        for key in keys:
            if key in heads:
                continue
            answer = caller(HEAD_OBJECT, Bucket=bucket, Key=key)
            if isinstance(answer, AwsFailure):
                return answer
            heads[key] = answer
    return {"Heads": heads, "Samples": samples}


def read_role(caller: Caller, name: str) -> Raw | None | AwsFailure:
    """GetRole, its inline policies, its attached managed policies (default versions) and its
    permissions boundary; None when IAM has no such role."""
    got = caller(GET_ROLE, RoleName=name)
    if got is None or isinstance(got, AwsFailure):
        return got
    role = dict(got.get("Role") or {})
    names = paged(caller, LIST_ROLE_POLICIES, _IAM_PAGES["PolicyNames"], RoleName=name)
    if isinstance(names, AwsFailure):
        return names
    inline: dict[str, object] = {}
    for policy in (names or {}).get("PolicyNames", []):
        answer = caller(GET_ROLE_POLICY, RoleName=name, PolicyName=policy)
        if answer is None or isinstance(answer, AwsFailure):
            return answer if isinstance(answer, AwsFailure) else _vanished(GET_ROLE_POLICY.api, policy)
        inline[str(policy)] = answer.get("PolicyDocument")
    listed = paged(caller, LIST_ATTACHED, _IAM_PAGES["AttachedPolicies"], RoleName=name)
    if isinstance(listed, AwsFailure):
        return listed
    attached = []
    for item in (listed or {}).get("AttachedPolicies", []):
        policy = _managed(caller, str(item["PolicyArn"]), str(item.get("PolicyName", "")))
        if isinstance(policy, AwsFailure):
            return policy
        attached.append(policy)
    boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = _managed(caller, str(boundary_arn), "") if boundary_arn else None
    if isinstance(boundary, AwsFailure):
        return boundary
    return {"Role": role, "Inline": inline, "Attached": attached, "Boundary": boundary}


def _managed(caller: Caller, arn: str, name: str) -> Raw | AwsFailure:
    """A managed policy's default version: {"PolicyName", "PolicyArn", "Document"}."""
    policy = caller(GET_POLICY, PolicyArn=arn)
    if policy is None or isinstance(policy, AwsFailure):
        return policy if isinstance(policy, AwsFailure) else _vanished(GET_POLICY.api, arn)
    info = policy.get("Policy") or {}
    version = caller(GET_POLICY_VERSION, PolicyArn=arn, VersionId=str(info.get("DefaultVersionId", "")))
    if version is None or isinstance(version, AwsFailure):
        return version if isinstance(version, AwsFailure) else _vanished(GET_POLICY_VERSION.api, arn)
    document = (version.get("PolicyVersion") or {}).get("Document")
    return {"PolicyName": name or str(info.get("PolicyName", "")), "PolicyArn": arn, "Document": document}


def _vanished(api: str, what: str) -> AwsFailure:
    # Listed a moment ago, gone now: the role is changing under us; judge it on the next run.
    return AwsFailure(api, "NoSuchEntity", f"{what} was listed but could not be read")


def read_access_points(caller: Caller, account: str, bucket: str) -> Raw | AwsFailure:
    """ListAccessPoints for the bucket (every page), each point with GetAccessPoint's
    PublicAccessBlockConfiguration merged in (the listing omits it)."""
    pages = LIST_ACCESS_POINTS.pages
    assert pages is not None
    listing = paged(caller, LIST_ACCESS_POINTS, pages, AccountId=account, Bucket=bucket)
    if isinstance(listing, AwsFailure):
        return listing
    if (listing or {}).get("truncated"):  # an exact set judged from part of it could pass wrongly
        return AwsFailure(LIST_ACCESS_POINTS.api, "TooManyPages", "the listing did not end")
    points = []
    for item in (listing or {}).get("AccessPointList", []):
        detail = caller(GET_ACCESS_POINT, AccountId=account, Name=item["Name"])
        if detail is None or isinstance(detail, AwsFailure):
            return detail if isinstance(detail, AwsFailure) else _vanished(GET_ACCESS_POINT.api, item["Name"])
        points.append({**item, "PublicAccessBlockConfiguration": detail.get("PublicAccessBlockConfiguration")})
    return {"AccessPointList": points}


def read_trails(caller_in: Callable[[str | None], Caller], region: str | None) -> Raw | AwsFailure:
    """DescribeTrails (with shadow trails), and for each multi-region trail its status and
    event selectors, asked in the trail's home region by ARN; one failed call fails all (a
    trail whose selectors could not be read might be the one that records the bucket)."""
    listing = caller_in(region)(DESCRIBE_TRAILS, **dict(DESCRIBE_TRAILS.params))
    if listing is None or isinstance(listing, AwsFailure):
        return listing or {"trailList": []}
    out = []
    for item in listing.get("trailList") or ():
        if not item.get("IsMultiRegionTrail"):
            out.append(dict(item))  # cannot record every region's buckets: no details needed
            continue
        home = caller_in(item.get("HomeRegion") or region)
        arn = str(item.get("TrailARN") or item["Name"])
        status = home(GET_TRAIL_STATUS, Name=arn)
        if status is None or isinstance(status, AwsFailure):
            return status if isinstance(status, AwsFailure) else _vanished(GET_TRAIL_STATUS.api, arn)
        selectors = home(GET_EVENT_SELECTORS, TrailName=arn)
        if selectors is None or isinstance(selectors, AwsFailure):
            return selectors if isinstance(selectors, AwsFailure) else _vanished(GET_EVENT_SELECTORS.api, arn)
        out.append({**item, "Status": {"IsLogging": status.get("IsLogging")},
                    "EventSelectors": selectors.get("EventSelectors") or [],
                    "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors") or []})
    return {"trailList": out}
