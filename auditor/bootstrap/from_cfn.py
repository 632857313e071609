"""`s3audit import`: CloudFormation templates and seed-style documents -> spec entries.

Accepted inputs, told apart by content:
- a CloudFormation template (YAML with short-form tags, or JSON): every `AWS::S3::Bucket`
  resource with its properties, joined with the `AWS::S3::BucketPolicy` resource whose
  `Bucket` names it (by `!Ref` or literal name);
- a Markdown document (`.md`): each ```yaml block that is a mapping with `BucketName:` is one
  bucket, written seed-style, with the bucket properties at top level plus `Region:` and
  `BucketPolicy:` (the policy document);
- a YAML/JSON file holding such seed-style blocks directly (one mapping or a list).

A template has no region (the stack's region decides), so `region` (from --region) fills it;
a seed block's own `Region:` wins. What only deployment decides is left out with a warning.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from auditor.bootstrap import BUCKET_NAME, GenerateError, add_comment
from auditor.cfn.intrinsics import Context, Unresolved, load_cfn_yaml, resolve
from auditor.cfn.values import CfnBucket, Origin
from auditor.controls import stated_controls
from auditor.model import Scope

__all__ = ["import_templates"]

Warn = Callable[[str], None]
Found = tuple[str, dict[str, Any]]  # (where it was defined, spec entry)

_MARKDOWN = frozenset({".md", ".markdown"})
_YAML_BLOCK = re.compile(r"^(```|~~~)[ \t]*ya?ml\b[^\n]*\n(.*?)^\1[ \t]*$",
                         re.MULTILINE | re.DOTALL | re.IGNORECASE)
_BUCKET_TYPE, _POLICY_TYPE = "AWS::S3::Bucket", "AWS::S3::BucketPolicy"


def bucket_entry(name: str, props: Mapping[str, Any], policy: Any, region: Any,
                 origin: Origin) -> dict[str, Any]:
    """The spec entry for one bucket: what each control's import mapping finds in its
    properties (and policy, if any), in registry order."""
    if region is not None and props.get("Region") is None:
        props = {**props, "Region": region}  # a stack's region, given with --region
    bucket = CfnBucket(name, props, policy, origin)
    entry: dict[str, Any] = {"name": name}
    for c in stated_controls(Scope.BUCKET):
        if c.cfn is not None:
            value = c.cfn.convert(bucket, entry)
            if value is not None:
                entry[c.key] = value
    return entry


def _once(warn: Warn) -> Warn:
    # Two controls reading one policy must not report its trouble twice.
    seen: set[str] = set()

    def once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            warn(message)
    return once


def _stderr(message: str) -> None:
    sys.stderr.write(f"s3audit: warning: {message}\n")


def import_templates(paths: Sequence[str | Path], region: str | None = None,
                     warn: Warn = _stderr) -> list[dict[str, Any]]:
    """Spec entries for every bucket the files define, in file order; GenerateError on bad input."""
    entries: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    warn = _once(warn)
    for raw in paths:
        path = Path(raw)
        found = _buckets_in(path, _read(path), region, warn)
        if not found:
            raise GenerateError(f"{path}: no S3 buckets found (no {_BUCKET_TYPE} resources and "
                                "no YAML blocks with BucketName)")
        for where, entry in found:
            name = entry["name"]
            if name in seen:
                raise GenerateError(f"bucket {name} is defined twice: {seen[name]} and {where}")
            seen[name] = where
            add_comment(entry, f"source: {where}")
            entries.append(entry)
    return entries


def _read(path: Path) -> str:
    if path.is_dir():
        raise GenerateError(f"{path}: is a directory; name the template files")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GenerateError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise GenerateError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc


def _parse(text: str, where: str, json_first: bool) -> Any:
    try:
        # JSON is YAML, except for details (tabs) that YAML rejects: try it first for .json.
        if json_first:
            return json.loads(text)
        return load_cfn_yaml(text)
    except json.JSONDecodeError as exc:
        raise GenerateError(f"{where}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise GenerateError(f"{where}{line}: not valid YAML: {problem}") from exc


def _documents(path: Path, text: str, warn: Warn) -> Iterable[tuple[str, Any]]:
    if path.suffix.lower() not in _MARKDOWN:
        json_first = path.suffix.lower() == ".json" or text.lstrip().startswith("{")
        yield str(path), _parse(text, str(path), json_first)
        return
    for match in _YAML_BLOCK.finditer(text):
        where = f"{path}:{text.count(chr(10), 0, match.start()) + 2}"
        try:
            yield where, _parse(match.group(2), where, json_first=False)
        except GenerateError as exc:
            warn(f"{exc}; block skipped")  # prose may hold illustrative, broken YAML


def _buckets_in(path: Path, text: str, region: str | None, warn: Warn) -> list[Found]:
    found: list[Found] = []
    for where, data in _documents(path, text, warn):
        if isinstance(data, Mapping) and "Resources" in data:
            found += _template(where, data, region, warn)
        else:
            found += _seed(where, data, region, warn)
    return found


# --------------------------------------------------------------------------- CloudFormation


def _literal_names(buckets: Mapping[str, Any],
                   parameters: frozenset[str]) -> tuple[Context, dict[str, str]]:
    """The buckets' names fixed by the template, and why the others are not."""
    names: dict[str, str | None] = dict.fromkeys(buckets)
    why: dict[str, str] = {}
    for _ in range(len(buckets)):  # a name may be built from another bucket's (`${Other}-logs`)
        progress = False
        for logical_id, resource in buckets.items():
            raw = (resource.get("Properties") or {}).get("BucketName")
            if names[logical_id] is not None:
                continue
            if raw is None:
                why[logical_id] = "no BucketName; CloudFormation generates one at deploy time"
                continue
            value = resolve(raw, Context(names, parameters))
            if isinstance(value, str):
                names[logical_id], progress = value, True
            else:
                why[logical_id] = (value.reason if isinstance(value, Unresolved)
                                   else f"{value!r} is not a name")
        if not progress:
            break
    return Context(names, parameters), why


def _policies(resources: Mapping[str, Any], ctx: Context, where: str, warn: Warn) -> dict[str, Any]:
    """Bucket name -> the resolved PolicyDocument of the BucketPolicy resource naming it."""
    found: dict[str, Any] = {}
    twice: set[str] = set()
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != _POLICY_TYPE:
            continue
        props = resource.get("Properties") or {}
        bucket = resolve(props.get("Bucket"), ctx)
        if not isinstance(bucket, str):
            why = bucket.reason if isinstance(bucket, Unresolved) else "no Bucket"
            warn(f"{where}: resource {logical_id}: Bucket: {why}; policy not imported")
            continue
        if bucket in found:
            twice.add(bucket)  # S3 keeps one policy per bucket: which one wins is not stated
        found[bucket] = resolve(props.get("PolicyDocument"), ctx)
    for bucket in sorted(twice):
        warn(f"{where}: two BucketPolicy resources name bucket {bucket}; neither is imported")
        del found[bucket]
    return found


def _template(where: str, template: Mapping[str, Any], region: str | None,
              warn: Warn) -> list[Found]:
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        raise GenerateError(f"{where}: Resources is not a mapping")
    parameters = template.get("Parameters")
    names = frozenset(parameters) if isinstance(parameters, Mapping) else frozenset()
    buckets = {k: r for k, r in resources.items()
               if isinstance(r, Mapping) and r.get("Type") == _BUCKET_TYPE}
    ctx, why = _literal_names(buckets, names)
    policies = _policies(resources, ctx, where, warn)
    found: list[Found] = []
    for logical_id, resource in buckets.items():
        label = f"{where}: resource {logical_id}"
        name = ctx.buckets[logical_id]
        if name is None:
            warn(f"{label}: BucketName: {why[logical_id]}; bucket not imported")
            continue
        if not _valid_name(name, label, warn):
            continue
        if "Condition" in resource:
            warn(f"{label}: created only when condition {resource['Condition']} holds; "
                 "imported as if it does")
        props = resolve(resource.get("Properties") or {}, ctx)
        entry = bucket_entry(name, props, policies.pop(name, None), region, Origin(label, warn))
        found.append((f"{where} resource {logical_id}", entry))
    for bucket in policies:
        warn(f"{where}: a BucketPolicy names bucket {bucket}, which this template does not define; "
             "policy not imported")
    return found


def _valid_name(name: str, label: str, warn: Warn) -> bool:
    if BUCKET_NAME.match(name):
        return True
    warn(f"{label}: BucketName: {name!r} is not a valid S3 bucket name; bucket not imported")
    return False


# --------------------------------------------------------------------------- seed style


def _seed(where: str, data: Any, region: str | None, warn: Warn) -> list[Found]:
    found: list[Found] = []
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, Mapping) or "BucketName" not in item:
            continue  # other YAML in the document (alarms, examples) describes no bucket
        block = resolve(dict(item), Context())
        name = block["BucketName"]
        label = f"{where}: bucket {name}"
        if not isinstance(name, str):
            warn(f"{where}: BucketName {name!r} is not a literal name; bucket not imported")
            continue
        if not _valid_name(name, label, warn):
            continue
        policy = block.get("BucketPolicy")
        if isinstance(policy, Mapping) and "PolicyDocument" in policy:
            policy = policy["PolicyDocument"]  # the resource's shape, not just the document
        entry = bucket_entry(name, block, policy, block.get("Region", region), Origin(label, warn))
        found.append((where, entry))
    return found
