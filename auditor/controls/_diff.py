"""Field-by-field comparison of two values of one dataclass type, for rule-set controls."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from auditor.model import Difference


def field_differences(path: str, label: str, want: Any, have: Any) -> list[Difference]:
    """One Difference per field that differs: machine path `path.field`, message naming `label`."""
    out = []
    for f in fields(want):
        expected, actual = getattr(want, f.name), getattr(have, f.name)
        if expected != actual:
            out.append(Difference(f"{path}.{f.name}", expected, actual,
                                  f"{label}: {f.name} is {show(actual)}; the spec requires {show(expected)}"))
    return out


def equal_fields(a: Any, b: Any) -> int:
    """How many fields two values share, to pair up rules that differ in a few fields."""
    return sum(getattr(a, f.name) == getattr(b, f.name) for f in fields(a))


def show(value: object) -> str:
    """A value as a message shows it: `not set`, `[a, b]`, `{field: value}`."""
    if value is None or value == ():
        return "not set"
    if isinstance(value, tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if is_dataclass(value) and not isinstance(value, type):
        return "{" + ", ".join(
            f"{f.name}: {show(getattr(value, f.name))}"
            for f in fields(value) if getattr(value, f.name) is not None
        ) + "}"
    return str(value)
