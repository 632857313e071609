"""Facets assembled from more than one call: pages, and per-item details.

Each reader returns one raw document in the shape its parser takes (the pages' items in one
list, each item's details merged into it), None for "not configured", or the first failure.
One failed call fails the whole facet: a trail whose selectors could not be read might be
the one that records the bucket, so nothing is judged from the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from auditor.collect.read import Call, call
from auditor.model import AwsFailure

# No facet has more pages than this; a misbehaving endpoint that always answers with a
# continuation token fails the read instead of looping forever.
MAX_PAGES = 1000

Raw = Mapping[str, Any] | None | AwsFailure


@dataclass(frozen=True, slots=True)
class RunCall:
    """A call made once per run or account, or as a facet's further call."""

    service: str
    api: str
    method: str
    iam_action: str
    absent_codes: frozenset[str] = frozenset()


class ClientFor(Protocol):
    def __call__(self, service: str, region: str | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What a reader needs: clients by (service, region), the facet's own first call, the
    region read in and the parameters of the first call (Bucket, AccountId)."""

    client: ClientFor
    first: Call
    service: str
    region: str | None
    params: Mapping[str, Any]


Reader = Callable[[ReadContext], Raw]

GET_ACCESS_POINT = RunCall("s3control", "GetAccessPoint", "get_access_point", "s3:GetAccessPoint")
GET_TRAIL_STATUS = RunCall("cloudtrail", "GetTrailStatus", "get_trail_status",
                           "cloudtrail:GetTrailStatus")
GET_EVENT_SELECTORS = RunCall("cloudtrail", "GetEventSelectors", "get_event_selectors",
                              "cloudtrail:GetEventSelectors")


def _pages(ctx: ReadContext, items: str, token_in: str, token_out: str,
           truncated: str | None = None) -> Raw:
    """Every page of a list call, its `items` in one list."""
    client = ctx.client(ctx.service, ctx.region)
    found: list[Any] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        params = {**ctx.params, **({token_in: token} if token else {})}
        page = call(client, ctx.first, **params)
        if page is None or isinstance(page, AwsFailure):
            return page
        found.extend(page.get(items) or ())
        token = page.get(token_out)
        if not token or (truncated is not None and not page.get(truncated)):
            return {items: found}
    return AwsFailure(ctx.first.api, "TooManyPages", f"more than {MAX_PAGES} pages")


def metrics_configurations(ctx: ReadContext) -> Raw:
    """ListBucketMetricsConfigurations, every page (ContinuationToken)."""
    return _pages(ctx, "MetricsConfigurationList", "ContinuationToken",
                  "NextContinuationToken", truncated="IsTruncated")


def access_points(ctx: ReadContext) -> Raw:
    """ListAccessPoints for the bucket, every page, each point with GetAccessPoint's
    PublicAccessBlockConfiguration merged in."""
    listing = _pages(ctx, "AccessPointList", "NextToken", "NextToken")
    if listing is None or isinstance(listing, AwsFailure):
        return listing
    client = ctx.client(ctx.service, ctx.region)
    points = []
    for item in listing["AccessPointList"]:
        detail = call(client, GET_ACCESS_POINT, AccountId=ctx.params["AccountId"], Name=item["Name"])
        if detail is None or isinstance(detail, AwsFailure):
            return detail or AwsFailure(GET_ACCESS_POINT.api, "NoSuchAccessPoint", item["Name"])
        points.append({**item, "PublicAccessBlockConfiguration":
                       detail.get("PublicAccessBlockConfiguration")})
    return {"AccessPointList": points}


def trails(ctx: ReadContext) -> Raw:
    """DescribeTrails (with shadow trails), and for each multi-region trail its status and
    event selectors, asked in the trail's home region by ARN."""
    listing = call(ctx.client("cloudtrail", ctx.region), ctx.first, includeShadowTrails=True)
    if listing is None or isinstance(listing, AwsFailure):
        return listing
    out = []
    for item in listing.get("trailList") or ():
        if not item.get("IsMultiRegionTrail"):
            out.append(dict(item))  # cannot record every region's buckets: no details needed
            continue
        client = ctx.client("cloudtrail", item.get("HomeRegion") or ctx.region)
        arn = item.get("TrailARN") or item["Name"]
        status = call(client, GET_TRAIL_STATUS, Name=arn)
        if status is None or isinstance(status, AwsFailure):
            return status or AwsFailure(GET_TRAIL_STATUS.api, "TrailNotFound", arn)
        selectors = call(client, GET_EVENT_SELECTORS, TrailName=arn)
        if selectors is None or isinstance(selectors, AwsFailure):
            return selectors or AwsFailure(GET_EVENT_SELECTORS.api, "TrailNotFound", arn)
        out.append({**item, "Status": {"IsLogging": status.get("IsLogging")},
                    "EventSelectors": selectors.get("EventSelectors") or [],
                    "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors") or []})
    return {"trailList": out}
