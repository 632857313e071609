"""`access_points`: the bucket's access points, an exact set by name, each with its settings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from auditor.controls import _block
from auditor.controls._block import PublicAccessBlockSpec
from auditor.controls._commands import commands
from auditor.controls.registry import Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import AccessPoint, Difference, Facet, Outcome, PublicAccessBlock, Severity

ACCESS_POINTS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points.html"

SCHEMA = {
    "description": "The exact set of the bucket's access points, by name; [] means none is allowed.",
    "type": "array",
    "items": {"$ref": "#/$defs/access_point"},
}
DEFS = {
    "access_point": {
        "description": "One access point; a setting left out is not checked.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "errorMessage": {"type": "an access point must be a mapping"},
        "properties": {
            "name": {"description": "Access point name (3-50 lower-case letters, digits, '-').",
                     "type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$",
                     "errorMessage": {"pattern": "{value} is not a valid access point name"}},
            "network_origin": {"description": "Internet, or VPC (reachable only from one VPC).",
                               "enum": ["Internet", "VPC"]},
            "vpc_id": {"description": "The VPC of a VPC access point.", "type": "string",
                       "pattern": "^vpc-[0-9a-f]+$"},
            "public_access_block": {"$ref": "#/$defs/public_access_block"},
        },
    },
    **_block.DEFS,
}


@dataclass(frozen=True, slots=True)
class AccessPointSpec:
    name: str
    network_origin: str | None = None
    vpc_id: str | None = None
    public_access_block: PublicAccessBlockSpec | None = None


def _build(raw: Sequence[Mapping[str, Any]]) -> tuple[AccessPointSpec, ...]:
    return tuple(AccessPointSpec(
        r["name"], r.get("network_origin"), r.get("vpc_id"),
        None if r.get("public_access_block") is None else _block.build(r["public_access_block"]),
    ) for r in raw)


def _differences(path: str, want: AccessPointSpec, have: AccessPoint) -> Iterator[Difference]:
    label = f"Access point {want.name}"
    for field in ("network_origin", "vpc_id"):
        expected, actual = getattr(want, field), getattr(have, field)
        if expected is not None and expected != actual:
            yield Difference(f"{path}.{field}", expected, actual,
                             f"{label}: {field} is {actual or 'not set'}; the spec requires {expected}")
    if want.public_access_block is not None:
        found = _block.compare(f"{path}.public_access_block", want.public_access_block,
                               have.public_access_block)
        for diff in found.differences:
            yield replace(diff, message=f"{label}: {diff.message}")


def access_points(want: tuple[AccessPointSpec, ...], ref: Ref, have: tuple[AccessPoint, ...]) -> Outcome:
    """An access point is missing or not in the spec, is reachable from another network
    origin or VPC, or has a weaker public access block than the spec names.

    Why it matters: every access point is a door into the bucket with its own policy and
    its own public access block; an Internet access point nobody listed, or one without
    its block, can expose the data however the bucket itself is set (AWS FSBP S3.19).
    Notes: access points are matched by name; `access_points: []` allows none. An access
    point's network origin and block cannot be changed after creation: the fix recreates it.
    Example: `access_points: [{name: app-vpc, network_origin: VPC, vpc_id: vpc-0abc1234, public_access_block: {block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true}}]`
    """
    live = {p.name: p for p in have}
    wanted = {p.name for p in want}
    diffs: list[Difference] = []
    for index, point in enumerate(want):
        path, actual = f"access_points[{index}]", live.get(point.name)
        if actual is None:
            diffs.append(Difference(path, point, None, f"Access point {point.name} is missing"))
        else:
            diffs.extend(_differences(path, point, actual))
    diffs.extend(Difference(f"access_points[name={name}]", None, point,
                            f"Access point {name} is not in the spec")
                 for name, point in live.items() if name not in wanted)
    return Outcome(actual=have, differences=tuple(diffs))


def _create(ref: Ref, point: AccessPointSpec, live: AccessPoint | None = None) -> Request:
    params: dict[str, Any] = {"AccountId": ref.account_id, "Name": point.name, "Bucket": ref.name}
    vpc = point.vpc_id or (live.vpc_id if live is not None else None)
    if point.network_origin == "VPC" or (point.network_origin is None and vpc):
        params["VpcConfiguration"] = {"VpcId": vpc or "VPC-ID"}
    current = live.public_access_block if live is not None else None
    if point.public_access_block is not None:
        params["PublicAccessBlockConfiguration"] = _block.wanted_flags(point.public_access_block, current)
    return Request("s3control", "CreateAccessPoint", params)


def _delete(ref: Ref, name: str) -> Request:
    return Request("s3control", "DeleteAccessPoint", {"AccountId": ref.account_id, "Name": name})


def _put(ref: Ref, want: tuple[AccessPointSpec, ...]) -> tuple[Request, ...]:
    return tuple(_create(ref, p) for p in want)


def _fix(ref: Ref, want: tuple[AccessPointSpec, ...], have: tuple[AccessPoint, ...] | None) -> str | None:
    live = {p.name: p for p in have or ()}
    wanted = {p.name for p in want}
    requests = [_delete(ref, name) for name in live if name not in wanted]
    for point in want:
        current = live.get(point.name)
        if current is None:
            requests.append(_create(ref, point))
        elif any(True for _ in _differences("", point, current)):
            # Neither the network origin nor the block of an access point can be changed.
            requests += [_delete(ref, point.name), _create(ref, point, current)]
    return commands(tuple(requests))


def _derive(ref: Ref, have: tuple[AccessPoint, ...]) -> Derived:
    out = []
    for point in have:
        block = point.public_access_block or PublicAccessBlock()
        item = to_jsonable(AccessPointSpec(point.name, point.network_origin, point.vpc_id, None))
        assert isinstance(item, dict)
        item["public_access_block"] = to_jsonable(block)
        out.append(item)
    return out, None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    first: dict[str, int] = {}
    for index, point in enumerate(value):
        path = ("access_points", index)
        if point["name"] in first:
            yield at.problem((*path, "name"), f"access point {point['name']!r} is listed twice "
                                              f"(first at line {at.position(('access_points', first[point['name']]))[0]})")
        first.setdefault(point["name"], index)
        if point.get("network_origin") == "Internet" and "vpc_id" in point:
            yield at.problem((*path, "vpc_id"), "vpc_id is given but network_origin is Internet: "
                                                f"only a VPC access point has a VPC ({ACCESS_POINTS})")


CONTROL = Control(
    key="access_points",
    id="S3-APT-001",
    title="The bucket's access points are exactly the set the spec lists",
    severity=Severity.HIGH,
    check=access_points,
    reads=(Facet.ACCESS_POINTS,),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    put_requests=_put,
    fix=_fix,
    example=[{"name": "app-vpc", "network_origin": "VPC", "vpc_id": "vpc-0abc1234",
              "public_access_block": _block.ALL_ON}],
    references=(ACCESS_POINTS,
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-bpa-settings.html"),
    why_not={"cfn": "access points are AWS::S3::AccessPoint resources of their own; import reads "
                    "the bucket's properties",
             "kms_refs": "names no KMS key"},
)
