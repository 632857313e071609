"""CloudFormation templates as data: short-form tags loaded, intrinsic functions resolved.

A template is read into the long form CloudFormation itself uses (`!Ref X` -> `{"Ref": "X"}`,
`!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`), so YAML and JSON templates look the same
to everything after loading.

Only what is fixed in the template itself is resolved: a `Ref`/`GetAtt`/`Sub` naming a bucket
of the template whose `BucketName` is a literal, and `Join` of such values. Anything decided at
deploy time (parameters, pseudo parameters, conditions, other resources' attributes) becomes
an `Unresolved` leaf saying why, so the importer can leave exactly that value out and warn,
instead of guessing. `{"Ref": "AWS::NoValue"}` removes its key or list item, as in CloudFormation.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

__all__ = ["CfnLoader", "Context", "Unresolved", "find_unresolved", "load_cfn_yaml", "resolve"]

NO_VALUE = "AWS::NoValue"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that also reads CloudFormation's short-form tags (`!Ref`, `!Sub`, `!If` ...)."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_sequence(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # `!GetAtt Bucket.Arn` is `["Bucket", "Arn"]`
    return {f"Fn::{suffix}": value}


# Every `!Name` tag maps to its long form, including functions added to CloudFormation later.
CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_cfn_yaml(text: str) -> Any:
    """Parse one YAML (or JSON) document with CloudFormation tags; yaml.YAMLError on bad syntax."""
    return yaml.load(text, Loader=CfnLoader)  # a SafeLoader subclass: safe


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A value known only when the stack is deployed; `reason` says which function and why."""

    reason: str


@dataclass(frozen=True, slots=True)
class Context:
    """What a template fixes: its buckets' literal names by logical id (None: not literal)."""

    buckets: Mapping[str, str | None] = field(default_factory=dict)
    parameters: frozenset[str] = frozenset()


def _is_intrinsic(value: object) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _no_value(value: object) -> bool:
    return isinstance(value, dict) and value == {"Ref": NO_VALUE}


def resolve(value: Any, ctx: Context) -> Any:
    """The value with every intrinsic function resolved, or replaced by an `Unresolved` leaf."""
    if _is_intrinsic(value):
        (name, arg), = value.items()
        return _function(str(name), arg, ctx)
    if isinstance(value, dict):
        return {k: resolve(v, ctx) for k, v in value.items() if not _no_value(v)}
    if isinstance(value, list):
        return [resolve(v, ctx) for v in value if not _no_value(v)]
    return value


def _function(name: str, arg: Any, ctx: Context) -> Any:
    if name == "Ref":
        return _ref(arg, ctx)
    if name == "Fn::GetAtt":
        return _get_att(arg, ctx)
    if name == "Fn::Sub":
        return _sub(arg, ctx)
    if name == "Fn::Join":
        return _join(arg, ctx)
    short = name.removeprefix("Fn::")
    return Unresolved(f"!{short} is decided when the stack is deployed")


def _bucket_name(logical_id: str, ctx: Context, how: str) -> str | Unresolved:
    name = ctx.buckets.get(logical_id)
    if name is None:
        return Unresolved(f"{how} names bucket resource {logical_id}, whose BucketName is not a "
                          "literal in the template")
    return name


def _ref(arg: Any, ctx: Context) -> str | Unresolved:
    target = str(arg)
    if target in ctx.buckets:
        return _bucket_name(target, ctx, f"!Ref {target}")
    if target in ctx.parameters:
        return Unresolved(f"!Ref {target} is a template parameter, known only at deploy time")
    if target.startswith("AWS::"):
        return Unresolved(f"!Ref {target} is a pseudo parameter, known only at deploy time")
    return Unresolved(f"!Ref {target} is not a bucket of this template")


def _get_att(arg: Any, ctx: Context) -> str | Unresolved:
    parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
    if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
        return Unresolved(f"!GetAtt {arg!r} is malformed")
    logical_id, attribute = parts
    if logical_id in ctx.buckets and attribute == "Arn":
        name = _bucket_name(logical_id, ctx, f"!GetAtt {logical_id}.Arn")
        return name if isinstance(name, Unresolved) else f"arn:aws:s3:::{name}"
    return Unresolved(f"!GetAtt {logical_id}.{attribute} is known only at deploy time")


def _sub_variable(var: str, local: Mapping[str, Any], ctx: Context) -> str | Unresolved:
    if var in local:
        value = local[var]
        return value if isinstance(value, Unresolved) else str(value)
    if var in ctx.buckets:
        return _bucket_name(var, ctx, f"!Sub ${{{var}}}")
    logical_id, _, attribute = var.partition(".")
    if attribute == "Arn" and logical_id in ctx.buckets:
        name = _bucket_name(logical_id, ctx, f"!Sub ${{{var}}}")
        return name if isinstance(name, Unresolved) else f"arn:aws:s3:::{name}"
    return Unresolved(f"!Sub variable ${{{var}}} is known only at deploy time")


def _sub(arg: Any, ctx: Context) -> str | Unresolved:
    text, local = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
    if not isinstance(text, str) or not isinstance(local, dict):
        return Unresolved(f"!Sub {arg!r} is malformed")
    values = {k: resolve(v, ctx) for k, v in local.items()}
    out: list[str] = []
    last = 0
    for match in _SUB_VARIABLE.finditer(text):
        out.append(text[last:match.start()])
        var = match.group(1)
        # `${!Literal}` is the escape for a literal `${Literal}`.
        if var.startswith("!"):
            value: str | Unresolved = "${" + var[1:] + "}"
        else:
            value = _sub_variable(var.strip(), values, ctx)
        if isinstance(value, Unresolved):
            return value
        out.append(value)
        last = match.end()
    return "".join(out) + text[last:]


def _join(arg: Any, ctx: Context) -> str | Unresolved:
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
        return Unresolved(f"!Join {arg!r} is malformed")
    parts = resolve(arg[1], ctx)
    if isinstance(parts, Unresolved):
        return parts
    if not isinstance(parts, list):
        return Unresolved("!Join needs a list of values")
    for part in parts:
        if isinstance(part, Unresolved):
            return part
    return arg[0].join(str(p) for p in parts)


def find_unresolved(value: Any, path: str = "") -> tuple[str, Unresolved] | None:
    """The first Unresolved leaf in value and its path (like `.Rules[0].ExpirationInDays`)."""
    if isinstance(value, Unresolved):
        return path, value
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = [(f"{path}.{k}", v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    for sub_path, item in items:
        found = find_unresolved(item, sub_path)
        if found is not None:
            return found
    return None
