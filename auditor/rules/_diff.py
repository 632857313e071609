"""Field-by-field comparison of two values of one dataclass type, for rule-set controls."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from auditor.model import Difference


def field_differences(label: str, want: Any, have: Any) -> list[Difference]:
    """One Difference per field whose value differs, each naming the rule and the field."""
    out = []
    for f in fields(want):
        expected, actual = getattr(want, f.name), getattr(have, f.name)
        if expected != actual:
            out.append(Difference(f"{label}.{f.name}", expected, actual,
                                  f"{label}: {f.name} is {_show(actual)}; the spec requires {_show(expected)}"))
    return out


def equal_fields(a: Any, b: Any) -> int:
    """How many fields two values share, to pair up rules that differ in a few fields."""
    return sum(getattr(a, f.name) == getattr(b, f.name) for f in fields(a))


def _show(value: object) -> str:
    if value is None or value == ():
        return "not set"
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if is_dataclass(value) and not isinstance(value, type):
        return "{" + ", ".join(
            f"{f.name}: {_show(getattr(value, f.name))}"
            for f in fields(value) if getattr(value, f.name) is not None
        ) + "}"
    return str(value)
