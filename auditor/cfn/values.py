"""Reading resolved template values: type checks with CloudFormation's lenient spellings.

Every helper raises `Invalid(path, why)` for a value that cannot be imported (wrong type, or
an `Unresolved` deploy-time value), so a converter states a value exactly or not at all.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from auditor.cfn.intrinsics import Unresolved, find_unresolved

__all__ = ["Invalid", "Origin", "as_bool", "as_date", "as_int", "as_list", "as_map", "as_str",
           "either", "plain"]


T = TypeVar("T")


class Invalid(Exception):
    """A value that cannot be imported: where, and why."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a bucket was defined (for warnings), and where warnings go."""

    label: str
    warn: Callable[[str], None]

    def skip(self, error: Invalid) -> None:
        self.warn(f"{self.label}: {error.path}: {error.why}; not imported")

    def attempt(self, convert: Callable[..., T], *args: Any) -> T | None:
        """convert(*args), or None after a warning when the value cannot be imported."""
        try:
            return convert(*args)
        except Invalid as error:
            self.skip(error)
            return None


def plain(value: Any, path: str) -> Any:
    """value itself, unless it holds a deploy-time value somewhere inside."""
    found = find_unresolved(value)
    if found is not None:
        raise Invalid(path + found[0], found[1].reason)
    return value


def as_map(value: Any, path: str) -> Mapping[str, Any]:
    value = plain(value, path) if isinstance(value, Unresolved) else value
    if not isinstance(value, Mapping):
        raise Invalid(path, "must be a mapping")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    value = plain(value, path) if isinstance(value, Unresolved) else value
    if not isinstance(value, list):
        raise Invalid(path, "must be a list")
    return value


def as_str(value: Any, path: str) -> str:
    value = plain(value, path)
    if not isinstance(value, str) or not value:
        raise Invalid(path, f"{value!r} is not a non-empty string")
    return value


def as_bool(value: Any, path: str) -> bool:
    value = plain(value, path)
    # CloudFormation takes "true"/"false" strings for booleans too.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise Invalid(path, f"{value!r} is not true or false")
    return value


def as_int(value: Any, path: str) -> int:
    value = plain(value, path)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(path, f"{value!r} is not a whole number")
    return value


def as_date(value: Any, path: str) -> str:
    value = plain(value, path)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]  # YAML reads an unquoted date as a date
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return value[:10]  # CloudFormation writes ISO 8601 timestamps; S3 takes midnight UTC
    raise Invalid(path, f"{value!r} is not a date")


def either(raw: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of keys present (the CloudFormation and S3 API spellings)."""
    return next((raw[k] for k in keys if k in raw), None)


@dataclass(frozen=True, slots=True)
class CfnBucket:
    """One bucket of a template (or seed-style block), intrinsics resolved, as `import` maps it."""

    name: str
    props: Mapping[str, Any]
    policy: Any  # the resolved PolicyDocument of its BucketPolicy, or None
    origin: Origin

    def prop(self, name: str) -> Any:
        """The property's value, None when the template does not set it."""
        return self.props.get(name)
