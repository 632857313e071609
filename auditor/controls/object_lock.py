"""`object_lock`: Object Lock off, on (any default), or on with a default retention."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.cfn.values import CfnBucket, Invalid, as_bool, as_int, as_map, as_str
from auditor.controls._commands import comment
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import Difference, Facet, ObjectLock, Outcome, Severity

OBJECT_LOCK = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html"

SCHEMA = {
    "description": "Object Lock. `false`: must not be enabled; `true`: must be enabled (any default "
    "retention); a mapping: must be enabled with this default retention (`days` or `years`).",
    "type": ["object", "boolean"],
    "if": {"type": "object"},
    "then": {
        "additionalProperties": False,
        "required": ["mode"],
        "oneOf": [{"required": ["days"]}, {"required": ["years"]}],
        "properties": {
            "mode": {"description": "Default retention mode.", "enum": ["GOVERNANCE", "COMPLIANCE"]},
            "days": {"description": "Default retention period in days.", "type": "integer",
                     "minimum": 1},
            "years": {"description": "Default retention period in years.", "type": "integer",
                      "minimum": 1},
        },
        "errorMessage": {"oneOf": "a default retention needs exactly one of 'days' or 'years'"},
    },
    "errorMessage": {"type": "must be true, false or a mapping of mode and days or years"},
}


@dataclass(frozen=True, slots=True)
class RetentionSpec:
    mode: str
    days: int | None = None
    years: int | None = None


Want = RetentionSpec | bool


def _build(raw: Mapping[str, Any] | bool) -> Want:
    if isinstance(raw, bool):
        return raw
    return RetentionSpec(raw["mode"], raw.get("days"), raw.get("years"))


def _period(days: int | None, years: int | None) -> str:
    return f"{days} days" if days is not None else f"{years} years"


def object_lock(want: Want, ref: Ref, have: ObjectLock | None) -> Outcome:
    """Object Lock is off when required, on when the spec says `object_lock: false`, or its
    default retention differs from the spec.

    Why it matters: Object Lock (WORM) keeps object versions from being deleted or
    overwritten for the retention period, even by the account root in COMPLIANCE mode:
    the defence against ransomware and insiders for backups and records (AWS FSBP S3.15).
    Notes: once enabled, Object Lock can never be turned off; it needs versioning, which
    then cannot be suspended. A default of 365 days is not the same setting as 1 year.
    Example: `object_lock: {mode: COMPLIANCE, days: 30}`
    """
    actual: object = False if have is None else (have if have.mode else True)
    if want is False:
        if have is None:
            return Outcome(False)
        return Outcome(actual, (Difference("", False, actual,
                                           "Object Lock is enabled; the spec says object_lock: false"),))
    if have is None:
        return Outcome(False, (Difference("", want, False,
                                          "Object Lock is not enabled; the spec requires it"),))
    if not isinstance(want, RetentionSpec):
        return Outcome(actual)
    if have.mode is None:
        return Outcome(actual, (Difference("object_lock.mode", want.mode, None,
                                           "Object Lock has no default retention; the spec requires "
                                           f"{want.mode} for {_period(want.days, want.years)}"),))
    diffs = []
    if have.mode != want.mode:
        diffs.append(Difference("object_lock.mode", want.mode, have.mode,
                                f"Default retention mode is {have.mode}; the spec requires {want.mode}"))
    if (have.days, have.years) != (want.days, want.years):
        path = "object_lock.days" if want.days is not None else "object_lock.years"
        diffs.append(Difference(path, _period(want.days, want.years), _period(have.days, have.years),
                                f"Default retention is {_period(have.days, have.years)}; the spec "
                                f"requires {_period(want.days, want.years)}"))
    return Outcome(actual, tuple(diffs))


def _put(ref: Ref, want: Want) -> tuple[Request, ...]:
    if want is False:
        return ()  # a new bucket has no Object Lock; an old one can never lose it
    conf: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    if isinstance(want, RetentionSpec):
        period = {"Days": want.days} if want.days is not None else {"Years": want.years}
        conf["Rule"] = {"DefaultRetention": {"Mode": want.mode, **period}}
    # Object Lock on an existing bucket needs versioning Enabled first (the versioning
    # control's request comes before this one in registry order).
    return (Request("s3", "PutObjectLockConfiguration",
                    {"Bucket": ref.name, "ObjectLockConfiguration": conf}),)


def _fix(ref: Ref, want: Want, have: ObjectLock | None) -> str | None:
    if want is not False:
        return None
    return comment(f"Object Lock on {ref.name} can never be disabled once enabled; recreate the bucket "
                   "without it, or accept it")


def _derive(ref: Ref, have: ObjectLock | None) -> Derived:
    if have is None:
        return False, None
    if have.mode is None:
        return True, None
    return to_jsonable(RetentionSpec(have.mode, have.days, have.years)), None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    versioning = entry.get("versioning")
    if value is not False and versioning in ("Suspended", "Disabled"):
        yield at.problem(("object_lock",), f"object_lock needs versioning Enabled, and the spec says "
                                           f"versioning: {versioning}; an object-locked bucket's "
                                           f"versioning can never be suspended ({OBJECT_LOCK})")


def _retention(raw: Any, path: str) -> dict[str, Any] | bool:
    conf = as_map(raw, path)
    rule = conf.get("Rule")
    if rule is None:
        return True
    default = as_map(as_map(rule, f"{path}.Rule").get("DefaultRetention"), f"{path}.Rule.DefaultRetention")
    where = f"{path}.Rule.DefaultRetention"
    out: dict[str, Any] = {"mode": as_str(default.get("Mode"), f"{where}.Mode")}
    for key in ("Days", "Years"):
        if default.get(key) is not None:
            out[key.lower()] = as_int(default[key], f"{where}.{key}")
    if len(out) != 2:
        raise Invalid(where, "a default retention needs exactly one of Days or Years")
    return out


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    enabled = bucket.prop("ObjectLockEnabled")
    conf = bucket.prop("ObjectLockConfiguration")
    if conf is not None:
        return bucket.origin.attempt(_retention, conf, "ObjectLockConfiguration")
    if enabled is None:
        return None
    return bucket.origin.attempt(as_bool, enabled, "ObjectLockEnabled")


CONTROL = Control(
    key="object_lock",
    id="S3-LCK-001",
    title="Object Lock is enabled with the default retention the spec names, or off",
    severity=Severity.MEDIUM,
    check=object_lock,
    reads=(Facet.OBJECT_LOCK,),
    schema=SCHEMA,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("ObjectLockEnabled", "ObjectLockConfiguration")),
    put_requests=_put,
    fix=_fix,
    example={"mode": "COMPLIANCE", "days": 30},
    references=(OBJECT_LOCK,
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html"),
    why_not={"kms_refs": "names no KMS key"},
)
