"""What the security-platform formats (OCSF, ASFF) need beyond a result: stable finding ids,
resource ARNs and types, the partition, epoch times and the rule's title and references.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.controls import by_id
from auditor.model import Result, Scope
from auditor.report.view import scope_of, subject_of

FINDING_PREFIX = "s3audit"


@dataclass(frozen=True, slots=True)
class Resource:
    """The AWS resource a result is about, as both formats name it."""

    arn: str
    name: str
    ocsf_type: str  # CloudFormation-style resource type, as OCSF producers write it
    asff_type: str  # ASFF resource type (Security Hub's list)


def finding_id(result: Result) -> str:
    """Stable across runs (account/bucket/control): a re-import updates the same finding."""
    return f"{FINDING_PREFIX}/{result.key}"


def partition(region: str | None) -> str:
    if region is not None and region.startswith("cn-"):
        return "aws-cn"
    if region is not None and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def resource(result: Result, account: str) -> Resource:
    scope = scope_of(result)
    arn_partition = partition(result.region)
    if scope is Scope.PRINCIPAL and result.principal:
        name = result.principal.rsplit("/", 1)[-1]
        return Resource(result.principal, name, "AWS::IAM::Role", "AwsIamRole")
    if scope is Scope.ACCOUNT:
        # ASFF's own spelling of an account resource id.
        return Resource(f"AWS::::Account:{account}", subject_of(result), "AWS::::Account", "AwsAccount")
    bucket = str(result.bucket)
    return Resource(f"arn:{arn_partition}:s3:::{bucket}", bucket, "AWS::S3::Bucket", "AwsS3Bucket")


def epoch_ms(timestamp: str) -> int:
    """An ISO 8601 time as milliseconds since the epoch (OCSF's timestamp_t)."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso_utc(timestamp: str) -> str:
    """An ISO 8601 time in UTC with a Z, as ASFF wants it (2026-11-24T23:00:00.000Z)."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rule_title(result: Result) -> str:
    control = by_id(result.rule_id) if result.rule_id else None
    return control.title if control is not None else f"{result.control} is as the spec says"


def rule_references(result: Result) -> tuple[str, ...]:
    control = by_id(result.rule_id) if result.rule_id else None
    return control.references if control is not None else ()
