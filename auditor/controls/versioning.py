"""`versioning`: Enabled, Suspended or Disabled (never enabled), told apart."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from auditor.cfn.values import Invalid, Origin, as_map, as_str
from auditor.controls._commands import comment
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Facet, Outcome, Severity, Versioning, VersioningStatus

LIFECYCLE_VERSIONS = ("https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
                      "lifecycle-configuration-examples.html")

SCHEMA = {
    "description": "Versioning state. Disabled means never enabled (a versioned bucket can only be Suspended).",
    "enum": ["Enabled", "Suspended", "Disabled"],
}


def versioning(want: VersioningStatus, ref: Ref, have: Versioning) -> Outcome:
    """Versioning status differs from the spec.

    Why it matters: without versioning an overwrite or a delete cannot be undone.
    Notes: a bucket that never had versioning returns no Status; the collector calls
    that "Disabled", which the spec tells apart from "Suspended". A bucket that was
    once versioned can only be Enabled or Suspended, never Disabled again.
    """
    if have.status == want:
        return Outcome(actual=have.status)
    return Outcome(
        actual=have.status,
        differences=(
            Difference("", want, have.status,
                       f"Versioning is {have.status}; the spec requires {want}"),
        ),
    )


def _put(ref: Ref, want: VersioningStatus) -> tuple[Request, ...]:
    if want == "Disabled":
        return ()  # a new bucket is unversioned; an old one can never return to Disabled
    return (Request("s3", "PutBucketVersioning",
                    {"Bucket": ref.name, "VersioningConfiguration": {"Status": want}}),)


def _fix(ref: Ref, want: VersioningStatus, have: Versioning) -> str | None:
    if want != "Disabled":
        return None
    return comment(f"versioning on {ref.name} can never return to Disabled once enabled; "
                   "recreate the bucket or accept Suspended")


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    # AWS FSBP S3.10: a versioned bucket keeps every overwritten or deleted version, billed,
    # until a lifecycle rule expires it.
    if value != "Enabled":
        return
    rules = entry.get("lifecycle")
    if rules is None:
        why = "no lifecycle rules are stated"
    elif not any("noncurrent_expiration_days" in r for r in rules if r.get("status", "Enabled") == "Enabled"):
        why = "no enabled lifecycle rule expires noncurrent versions"
    else:
        return
    yield at.problem(("versioning",), f"versioning is Enabled and {why}: every overwritten or "
                                      "deleted version is kept (and billed) forever; add "
                                      f"noncurrent_expiration_days (AWS FSBP S3.10, {LIFECYCLE_VERSIONS})",
                     "note")


def _derive(ref: Ref, have: Versioning) -> Derived:
    return have.status, None


def _status(raw: Any, path: str, origin: Origin) -> str:
    status = as_str(as_map(raw, path).get("Status"), f"{path}.Status")
    if status not in ("Enabled", "Suspended"):
        raise Invalid(f"{path}.Status", f"{status!r} is not Enabled or Suspended")
    return status


CONTROL = Control(
    key="versioning",
    id="S3-VER-001",
    title="Versioning is in the state the spec names",
    severity=Severity.MEDIUM,
    check=versioning,
    reads=(Facet.VERSIONING,),
    schema=SCHEMA,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport.prop("VersioningConfiguration", _status),
    put_requests=_put,
    fix=_fix,
    example="Enabled",
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",),
    why_not={"kms_refs": "names no KMS key"},
)
