"""Turn model values (spec and live dataclasses, enums, tuples) into plain JSON values.

The output is meant to read like the spec YAML a user writes, so a drift's `expected` and
`actual` can be compared with the spec by eye:

- a dataclass becomes a mapping of its snake_case field names, in declaration order;
- a field is left out when it holds its declared default *and* that default means "not
  set" (None, an empty tuple, an empty string). `LifecycleRule.prefix == ""` (whole
  bucket) and `CorsRule.id is None` therefore disappear, while `status: Enabled`,
  `mfa_delete: false` or a `PublicAccessBlock` flag that is false stay: they are values,
  and false flags are exactly the evidence a reader needs. A field without a default is
  always written, so a meaningful None there (e.g. `KmsKey.arn`: no such key) is `null`;
- a field named `tags` holding (key, value) pairs becomes a mapping, as in the spec;
- tuples and lists become lists; sets become lists sorted by their JSON text;
- enums become their value; bool, int, float, str and None are kept as they are
  (a float that is NaN or infinite becomes its `str()`: JSON cannot spell it);
- anything else becomes its `str()`, so a report can always be rendered.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from typing import TypeAlias

JsonValue: TypeAlias = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

# Defaults that mean "the user did not state this"; see the module docstring.
_UNSET_DEFAULTS: tuple[object, ...] = (None, (), "")


def to_jsonable(value: object) -> JsonValue:
    """Convert a model value to a JSON value shaped like the spec YAML."""
    # Enums first: StrEnum members are also str, but the plain value compares and
    # serialises the same everywhere.
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities have no JSON spelling
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass(value)
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(item) for item in value]
        # Set order varies between runs (hash seeds); sort by the JSON text.
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return str(value)


def _dataclass(value: object) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        item = getattr(value, f.name)
        if _is_unset_default(f, item):
            continue
        if f.name == "tags" and _is_pairs(item):
            out[f.name] = {str(k): to_jsonable(v) for k, v in item}
        else:
            out[f.name] = to_jsonable(item)
    return out


def _is_unset_default(f: dataclasses.Field[object], item: object) -> bool:
    if f.default is dataclasses.MISSING:
        return False
    return any(f.default == unset and item == unset for unset in _UNSET_DEFAULTS)


def _is_pairs(item: object) -> bool:
    return isinstance(item, tuple) and all(
        isinstance(pair, tuple) and len(pair) == 2 for pair in item
    )
