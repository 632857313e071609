"""The public access block's four flags, shared by the bucket- and account-level controls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from auditor.controls.registry import Request
from auditor.model import Difference, Outcome, PublicAccessBlock
from auditor.shapes import PAB_FLAGS

DEFS = {
    "public_access_block": {
        "description": "A public access block, flag by flag; a flag left out is not checked.",
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "errorMessage": {"minProperties": "names no flag; leave the key out or state the flags to check"},
        "properties": {
            "block_public_acls": {"description": "Refuse new public ACLs.", "type": "boolean"},
            "ignore_public_acls": {"description": "Ignore existing public ACLs.", "type": "boolean"},
            "block_public_policy": {"description": "Refuse new public bucket policies.", "type": "boolean"},
            "restrict_public_buckets": {
                "description": "Restrict access granted by a public policy to the account and AWS services.",
                "type": "boolean",
            },
        },
    },
}
ALL_ON = {"block_public_acls": True, "ignore_public_acls": True, "block_public_policy": True,
          "restrict_public_buckets": True}
_API = dict(PAB_FLAGS)


@dataclass(frozen=True, slots=True)
class PublicAccessBlockSpec:
    """Each flag is optional: a flag left out is not checked."""

    block_public_acls: bool | None = None
    ignore_public_acls: bool | None = None
    block_public_policy: bool | None = None
    restrict_public_buckets: bool | None = None


def build(raw: Mapping[str, Any]) -> PublicAccessBlockSpec:
    return PublicAccessBlockSpec(**raw)


def compare(key: str, want: PublicAccessBlockSpec, have: PublicAccessBlock | None) -> Outcome:
    """One difference per stated flag that differs; no block at all means every flag off."""
    current = have or PublicAccessBlock()
    diffs = []
    for f in fields(PublicAccessBlockSpec):
        wanted, live = getattr(want, f.name), getattr(current, f.name)
        if wanted is not None and wanted != live:
            state = "not configured" if have is None else str(live).lower()
            diffs.append(Difference(f"{key}.{f.name}", wanted, live,
                                    f"{_API[f.name]} is {state}; the spec requires {str(wanted).lower()}"))
    return Outcome(actual=have, differences=tuple(diffs))


def put(service: str, target: dict[str, str], want: PublicAccessBlockSpec,
        have: PublicAccessBlock | None) -> Request:
    """The PutPublicAccessBlock setting the stated flags (the others kept as they are)."""
    return Request(service, "PutPublicAccessBlock",
                   {**target, "PublicAccessBlockConfiguration": wanted_flags(want, have)})


def wanted_flags(want: PublicAccessBlockSpec, have: PublicAccessBlock | None) -> dict[str, bool]:
    """The configuration to put: the stated flags, the others kept as they are."""
    current = have or PublicAccessBlock()
    out = {}
    for name, api in PAB_FLAGS:
        stated = getattr(want, name)
        out[api] = bool(getattr(current, name) if stated is None else stated)
    return out
