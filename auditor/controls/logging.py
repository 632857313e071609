"""`logging`: server access logging on (to the named bucket and prefix), or off."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.cfn.values import CfnBucket, as_map, as_str, plain
from auditor.controls._commands import quote
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import Difference, Facet, Logging, Outcome, Severity

SERVER_LOGS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html"

SCHEMA = {
    "description": "Server access logging. `false`: must be off; `true`: must be on (any target); "
    "a mapping: must log to this bucket (and prefix, when given).",
    "type": ["object", "boolean"],
    "additionalProperties": False,
    "required": ["target_bucket"],
    "properties": {
        "target_bucket": {
            "description": "The bucket the access logs are delivered to (same account and region).",
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            "errorMessage": {"pattern": "{value} is not a valid S3 bucket name"},
        },
        "target_prefix": {
            "description": "Key prefix of the log objects; left out = not checked.",
            "type": "string",
        },
    },
    "errorMessage": {"type": "must be true, false or a mapping with target_bucket"},
}


@dataclass(frozen=True, slots=True)
class LoggingSpec:
    target_bucket: str
    target_prefix: str | None = None  # None: not checked


Want = LoggingSpec | bool


def _build(raw: Mapping[str, Any] | bool) -> Want:
    if isinstance(raw, bool):
        return raw
    return LoggingSpec(raw["target_bucket"], raw.get("target_prefix"))


def _where(have: Logging) -> str:
    return f"{have.target_bucket}/{have.target_prefix}"


def logging(want: Want, ref: Ref, have: Logging | None) -> Outcome:
    """Server access logging is off when required, on when the spec says `logging: false`,
    or goes to another bucket or prefix than the spec names.

    Why it matters: access logs are the record of who read, wrote or deleted what; without
    them an incident on the bucket cannot be reconstructed (AWS FSBP S3.9).
    Notes: `logging: true` accepts any target. The target bucket must be in the same
    region and account and must let the logging service write (bucket policy for
    logging.s3.amazonaws.com); S3 delivers logs on a best-effort basis, within hours.
    Example: `logging: {target_bucket: amply-logs-prod, target_prefix: s3/amply-storage-prod/}`
    """
    actual: object = False if have is None else have
    if want is False:
        if have is None:
            return Outcome(actual=False)
        return Outcome(actual, (Difference("", False, have, f"Server access logging is on "
                                           f"(to {_where(have)}); the spec says logging: false"),))
    if have is None:
        return Outcome(False, (Difference("", want, False,
                                          "Server access logging is off; the spec requires it on"),))
    if want is True:
        return Outcome(actual)
    assert isinstance(want, LoggingSpec)
    diffs = []
    if have.target_bucket != want.target_bucket:
        diffs.append(Difference("logging.target_bucket", want.target_bucket, have.target_bucket,
                                f"Access logs go to bucket {have.target_bucket}; the spec requires "
                                f"{want.target_bucket}"))
    if want.target_prefix is not None and have.target_prefix != want.target_prefix:
        diffs.append(Difference("logging.target_prefix", want.target_prefix, have.target_prefix,
                                f"Access logs are written under prefix {have.target_prefix!r}; "
                                f"the spec requires {want.target_prefix!r}"))
    return Outcome(actual, tuple(diffs))


def _status(target: str, prefix: str) -> dict[str, Any]:
    return {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": prefix}}


def _put(ref: Ref, want: Want) -> tuple[Request, ...]:
    if want is True:
        return ()  # no target is named: _fix says what to choose
    status = _status(want.target_bucket, want.target_prefix or "") if isinstance(want, LoggingSpec) else {}
    return (Request("s3", "PutBucketLogging", {"Bucket": ref.name, "BucketLoggingStatus": status}),)


def _fix(ref: Ref, want: Want, have: Logging | None) -> str | None:
    if want is not True:
        return None
    status = json.dumps(_status("LOG-BUCKET", f"{ref.name}/"), separators=(",", ":"))
    return ("# logging: true names no target: choose a log bucket in the same account and region\n"
            f"aws s3api put-bucket-logging --bucket {quote(ref.name)} "
            f"--bucket-logging-status {quote(status)}")


def _derive(ref: Ref, have: Logging | None) -> Derived:
    return (False, None) if have is None else (to_jsonable(have), None)


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    if isinstance(value, Mapping) and value.get("target_bucket") == entry.get("name"):
        yield at.problem(("logging", "target_bucket"),
                         "the bucket logs into itself: every delivered log object is itself "
                         f"logged, without end; AWS advises a separate log bucket ({SERVER_LOGS})",
                         "warning")


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    raw = bucket.prop("LoggingConfiguration")
    if raw is None:
        return None
    return bucket.origin.attempt(_from_template, raw, bucket.name)


def _from_template(raw: Any, name: str) -> dict[str, str]:
    conf = as_map(raw, "LoggingConfiguration")
    # Without DestinationBucketName CloudFormation has the bucket log into itself.
    target = name
    if conf.get("DestinationBucketName") is not None:
        target = as_str(conf["DestinationBucketName"], "LoggingConfiguration.DestinationBucketName")
    out = {"target_bucket": target}
    prefix = plain(conf.get("LogFilePrefix"), "LoggingConfiguration.LogFilePrefix")
    if isinstance(prefix, str):
        out["target_prefix"] = prefix
    return out


CONTROL = Control(
    key="logging",
    id="S3-LOG-001",
    title="Server access logging is on, to the bucket and prefix the spec names, or off",
    severity=Severity.MEDIUM,
    check=logging,
    reads=(Facet.LOGGING,),
    schema=SCHEMA,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("LoggingConfiguration",)),
    put_requests=_put,
    fix=_fix,
    example={"target_bucket": "amply-logs-prod", "target_prefix": "s3/amply-storage-prod/"},
    references=(SERVER_LOGS,
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html"),
    why_not={"kms_refs": "names no KMS key"},
)
