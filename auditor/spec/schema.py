"""The spec's JSON Schema: a skeleton (`schema_base.json`: the file, entries, waivers) plus each
control's fragment, assembled from the registry. `schema.json` beside it is the same schema
written out for editors (`s3audit schema`); a test keeps it current."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from auditor.controls import CONTROLS, keys
from auditor.model import Scope

BASE_PATH = Path(__file__).with_name("schema_base.json")
SCHEMA_PATH = Path(__file__).with_name("schema.json")
_ENTRY_DEF = {Scope.BUCKET: "bucket", Scope.ACCOUNT: "account", Scope.PRINCIPAL: "principal"}


def _assemble() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(BASE_PATH.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    for c in CONTROLS:
        for name, fragment in c.defs.items():
            if name in defs and defs[name] != fragment:
                raise ValueError(f"{c.key}: $defs/{name} differs from another control's")
            defs[name] = fragment
        entry = defs[_ENTRY_DEF[c.scope]]["properties"]
        if c.schema is not None:
            entry[c.spec_key] = c.schema
        if c.key != "managed":  # an unmanaged bucket has no entry to give it a severity
            entry["severity"]["properties"][c.key] = {"$ref": "#/$defs/severity_level"}
    defs["control"]["enum"] = list(keys())
    return schema


@cache
def _schema() -> dict[str, Any]:
    return _assemble()


def schema() -> dict[str, Any]:
    """The spec JSON Schema (version 1), as a fresh copy the caller may change."""
    return copy.deepcopy(_schema())


def schema_text() -> str:
    """The schema as `schema.json` holds it."""
    return json.dumps(_schema(), indent=2, ensure_ascii=False) + "\n"
