"""`exists`: every bucket a spec names is there (implicit: judged for every named bucket).

A spec'd bucket that no audited account lists is either missing (HeadBucket 404) or held by
an account the audit does not cover (403): the second cannot be fixed by creating it (the
name is taken), only by adding that account to the audit or, if it is not yours, by
renaming the bucket in the spec (someone may have registered the name: bucket squatting).
"""

from __future__ import annotations

from auditor.controls._commands import command, comment, words
from auditor.controls.registry import Control, Ref, Request
from auditor.model import Absence, Difference, Outcome, Severity


def _put(ref: Ref, want: bool) -> tuple[Request, ...]:
    params: dict[str, object] = {"Bucket": ref.name}
    # us-east-1 takes no LocationConstraint; every other region needs one.
    if ref.region and ref.region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": ref.region}
    return (Request("s3", "CreateBucket", params),)


def exists(want: bool, ref: Ref, absence: Absence | None) -> Outcome:
    """A spec names a bucket that the audited account(s) do not have.

    Why it matters: an application or a backup job writing to a missing bucket fails, and
    someone else may register the name (bucket names are global).
    Notes: a missing bucket gets this one result and no other. HeadBucket tells a name
    nobody holds (404: create it) from one another account holds (403: audit that account,
    or rename the bucket in the spec if the name is not yours).
    """
    present = absence is None
    if present == want:
        return Outcome(actual=present)
    if absence is Absence.ELSEWHERE:
        message = (f"Bucket {ref.name} exists, but not in the audited account(s): another "
                   "account owns the name (HeadBucket found it)")
    elif absence is Absence.UNKNOWN:
        message = (f"Bucket {ref.name} is in none of the audited accounts, and HeadBucket could "
                   "not tell whether another account owns the name")
    else:
        message = f"Bucket {ref.name} does not exist; a spec requires it"
    return Outcome(actual=present, differences=(Difference("", want, present, message),))


def _fix(ref: Ref, want: bool, absence: Absence | None = None) -> str | None:
    if absence is Absence.ELSEWHERE:
        return comment(f"{ref.name} is owned by an account this audit does not cover: add it "
                       "(--profile, --role-arn or --org-role); if no account of yours owns it, "
                       "the name is taken (squatting?): rename the bucket in the spec")
    if absence is Absence.UNKNOWN:
        return comment(f"find out who holds the name first: {words('aws', 's3api', 'head-bucket', '--bucket', ref.name)}"
                       " (404: create it; 403: another account owns it)")
    (request,) = _put(ref, want)
    # --region as well: the CLI's default region may differ from the bucket's.
    return command(request) + (f" {words('--region', ref.region)}" if ref.region else "")


CONTROL = Control(
    key="exists",
    id="S3-BKT-001",
    title="Every bucket a spec names exists in the account",
    severity=Severity.HIGH,
    check=exists,
    put_requests=_put,
    fix=_fix,
    example=True,
    why_not={
        "derive": "implicit: every bucket init describes exists",
        "cfn": "implicit: every bucket a template defines is created by it",
        "kms_refs": "names no KMS key",
    },
)
