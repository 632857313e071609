"""`mfa_delete`: MFA delete on or off (MFADelete of GetBucketVersioning)."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from auditor.controls._commands import command
from auditor.controls.registry import Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Facet, Outcome, Severity, Versioning

MFA_DELETE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html"
# "Lifecycle configuration on multi-factor authentication (MFA)-enabled buckets is not supported."
LIFECYCLE_AND_MFA = ("https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
                     "lifecycle-and-other-bucket-config.html")
# The root user's MFA device and a current code: only the root user can change MFA delete.
MFA_PLACEHOLDER = "arn:aws:iam::ACCOUNT-ID:mfa/root-account-mfa-device 123456"

SCHEMA = {"description": "MFA delete: deleting a version or changing versioning needs the root "
                         "user's MFA code.", "type": "boolean"}


def _state(on: bool) -> str:
    return "on" if on else "off"


def mfa_delete(want: bool, ref: Ref, have: Versioning) -> Outcome:
    """MFA delete is off when the spec requires it, or on when the spec says false.

    Why it matters: with MFA delete, permanently deleting an object version or suspending
    versioning needs the root user's MFA device, so stolen credentials alone cannot destroy
    the version history (CIS AWS 3.1.2, AWS FSBP S3.20).
    Notes: read from GetBucketVersioning's MFADelete; only the root user can change it,
    with the CLI or API (not the console). S3 does not support lifecycle rules on an
    MFA-delete bucket, so `mfa_delete: true` with lifecycle rules is refused by validate.
    Example: `mfa_delete: true`
    """
    if have.mfa_delete == want:
        return Outcome(actual=have.mfa_delete)
    return Outcome(actual=have.mfa_delete, differences=(Difference(
        "", want, have.mfa_delete,
        f"MFA delete is {_state(have.mfa_delete)}; the spec requires it {_state(want)}"),))


def _request(ref: Ref, want: bool, status: str) -> Request:
    return Request("s3", "PutBucketVersioning", {
        "Bucket": ref.name,
        "VersioningConfiguration": {"Status": status, "MFADelete": "Enabled" if want else "Disabled"},
        "MFA": MFA_PLACEHOLDER.replace("ACCOUNT-ID", ref.account_id or "ACCOUNT-ID"),
    })


def _put(ref: Ref, want: bool) -> tuple[Request, ...]:
    return (_request(ref, want, "Enabled"),) if want else ()


def _fix(ref: Ref, want: bool, have: Versioning | None) -> str:
    # The request must restate the versioning status: keep the live one where it has one.
    status = have.status if have is not None and have.status != "Disabled" else "Enabled"
    return ("# only the root user can change MFA delete, with the CLI and its MFA device "
            "(serial and current code):\n"
            f"{command(_request(ref, want, status))} --profile {shlex.quote('root')}")


def _derive(ref: Ref, have: Versioning) -> Derived:
    return have.mfa_delete, None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    if value is not True:
        return
    if entry.get("versioning") == "Disabled":
        yield at.problem(("mfa_delete",), "mfa_delete: true needs versioning, and the spec says "
                                          f"versioning: Disabled ({MFA_DELETE})")
    if entry.get("lifecycle"):
        line = at.position(("lifecycle",))[0]
        yield at.problem(("mfa_delete",), f"mfa_delete: true cannot hold with the lifecycle rules "
                                          f"at line {line}: S3 does not support lifecycle "
                                          f"configuration on MFA-delete buckets ({LIFECYCLE_AND_MFA})")


CONTROL = Control(
    key="mfa_delete",
    id="S3-MFA-001",
    title="MFA delete is on or off as the spec says",
    severity=Severity.MEDIUM,
    check=mfa_delete,
    reads=(Facet.VERSIONING,),
    schema=SCHEMA,
    lint=_lint,
    derive=_derive,
    put_requests=_put,
    fix=_fix,
    example=True,
    references=(MFA_DELETE, LIFECYCLE_AND_MFA),
    why_not={"cfn": "CloudFormation cannot set MFA delete (VersioningConfiguration has only Status)",
             "kms_refs": "names no KMS key"},
)
