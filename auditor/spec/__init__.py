"""Loading spec files: YAML with marks, JSON Schema, semantic lint, then typed `BucketSpec`s.

Every problem in every file is collected before anything is raised, so one `validate` run
shows the user everything to fix, each as `file:line:col: key: message`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from auditor.errors import SpecError, SpecProblem
from auditor.model import SpecSet
from auditor.spec.build import Entry, build_bucket, effective_spec, matching_entries
from auditor.spec.lint import lint_entries
from auditor.spec.yaml_loader import KeyPath, YamlDocument, load_yaml

__all__ = [
    "SCHEMA_PATH",
    "check_specs",
    "effective_spec",
    "load_specs",
    "matching_entries",
    "schema",
    "spec_files",
    "validate_document",
]

SCHEMA_PATH = Path(__file__).with_name("schema.json")
SPEC_SUFFIXES = (".yaml", ".yml")

_TYPE_NAMES = {
    "boolean": "true or false", "integer": "a whole number", "number": "a number",
    "string": "a string", "object": "a mapping", "array": "a list", "null": "empty",
}


@cache
def schema() -> dict[str, Any]:
    """The spec JSON Schema (version 1), parsed once."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


# --------------------------------------------------------------------------- schema errors


def _show(value: object) -> str:
    """A short description of a YAML value for messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return "a list" if isinstance(value, list) else "a mapping"


# jsonschema types these attributes `Any | Unset`; they are always set on reported errors.
def _instance(error: ValidationError) -> Any:
    instance: Any = error.instance
    return instance


def _limit(error: ValidationError) -> Any:
    limit: Any = error.validator_value
    return limit


def _schema_of(error: ValidationError) -> dict[str, Any]:
    schema_: Any = error.schema
    return schema_ if isinstance(schema_, dict) else {}


def _custom(error: ValidationError) -> str | None:
    # `errorMessage` (ajv-errors style): a string, or a mapping of keyword -> message.
    custom = _schema_of(error).get("errorMessage")
    if isinstance(custom, dict):
        custom = custom.get(str(error.validator))
    return custom.replace("{value}", repr(_instance(error))) if isinstance(custom, str) else None


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    # difflib misses a different case ("enabled") and abbreviations ("index").
    close = close or [c for c in choices if c.lower() == word.lower()]
    close = close or [c for c in choices if len(word) >= 3 and c.startswith(word)]
    return f"; did you mean '{close[0]}'?" if close else ""


def _message(error: ValidationError) -> str:
    """A human message for one error (additionalProperties/required are handled apart)."""
    custom = _custom(error)
    if custom:
        return custom
    kind, limit, instance = str(error.validator), _limit(error), _instance(error)
    if kind == "type":
        names = [limit] if isinstance(limit, str) else list(limit)
        expected = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return f"must be {expected}, not {_show(instance)}"
    if kind == "enum":
        options = [str(o) for o in limit]
        hint = _did_you_mean(str(instance), options)
        return f"{instance!r} is not one of {', '.join(options)}{hint}"
    simple = {
        "const": f"must be {limit!r}, not {instance!r}",
        "minimum": f"must be at least {limit}, not {instance!r}",
        "maximum": f"must be at most {limit}, not {instance!r}",
        "minItems": "must not be empty" if limit == 1 else f"needs at least {limit} items",
        "minLength": "must not be empty",
        "maxLength": f"must be at most {limit} characters long",
        "format": f"{instance!r} is not a valid {limit}",
    }
    return simple.get(kind, error.message)


def _relevant(error: ValidationError) -> ValidationError:
    # Inside oneOf/anyOf the branch errors say more than "not valid under any of the given
    # schemas" (a typo in a rule should be reported as the typo), unless the schema gives
    # its own message for the combination.
    while error.context and _custom(error) is None:
        found = best_match(error.context)
        if found is None:
            break
        error = found
    return error


def _one_of_keys(error: ValidationError) -> list[str]:
    """For oneOf [{required: [a]}, {required: [b]}]: the alternatives present in the instance."""
    branches = _limit(error) if error.validator == "oneOf" else []
    instance = _instance(error)
    if not isinstance(instance, dict) or not all(
        isinstance(b, dict) and set(b) == {"required"} for b in branches
    ):
        return []
    return [k for b in branches for k in b["required"] if k in instance]


def _explain(doc: YamlDocument, error: ValidationError) -> Iterator[tuple[KeyPath, str]]:
    """(path, message) pairs for one error; unknown or missing keys get a path of their own."""
    path: KeyPath = tuple(error.absolute_path)
    instance = _instance(error)
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(_schema_of(error).get("properties", {}))
        for key in instance:
            if key not in allowed:
                hint = _did_you_mean(key, allowed) or f"; allowed keys: {', '.join(allowed)}"
                yield (*path, key), f"unknown key '{key}'{hint}"
    elif error.validator == "required" and isinstance(instance, dict):
        for key in _limit(error):
            if key not in instance:
                yield (*path, key), f"required key '{key}' is missing"
    elif len(present := _one_of_keys(error)) > 1:
        # Both alternatives given: point at the one written last.
        last = max(present, key=lambda k: doc.marks.position((*path, k)))
        yield (*path, last), _message(error)
    else:
        yield path, _message(error)


def _schema_problems(doc: YamlDocument) -> list[tuple[KeyPath, SpecProblem]]:
    if doc.data is None:
        return [((), doc.problem((), "the file is empty; a spec needs 'version: 1' and 'buckets'"))]
    found: dict[KeyPath, str] = {}
    for error in _validator().iter_errors(doc.data):
        for path, message in _explain(doc, _relevant(error)):
            found.setdefault(path, message)  # one per path: the first (schema order puts type first)
    return [(path, doc.problem(path, message)) for path, message in found.items()]


def validate_document(doc: YamlDocument) -> list[SpecProblem]:
    """JSON Schema problems of one loaded document, each on the line of its key."""
    return [problem for _, problem in _schema_problems(doc)]


# --------------------------------------------------------------------------- files


def _file_problem(path: Path | str, message: str) -> SpecProblem:
    return SpecProblem(str(path), 1, 1, "", message)


def _below(directory: Path) -> list[Path]:
    # Hidden files and directories (.git, .github, editor droppings) are never specs.
    found = (
        p for p in directory.rglob("*")
        if p.suffix in SPEC_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )
    return sorted(found, key=lambda p: p.relative_to(directory).parts)


def spec_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[SpecProblem]]:
    """The spec files the paths name (directories expanded, sorted), and path problems."""
    files: list[Path] = []
    problems: list[SpecProblem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            below = _below(path)
            files.extend(below)
            if not below:
                problems.append(_file_problem(path, "no *.yaml or *.yml spec files found here"))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(_file_problem(path, "no such file or directory"))
    unique: dict[Path, Path] = {}
    for file in files:  # a file named twice (itself and via its directory) is loaded once
        unique.setdefault(file.resolve(), file)
    return list(unique.values()), problems


def _read(path: Path) -> YamlDocument | SpecProblem:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return _file_problem(path, f"not UTF-8 text ({error.reason} at byte {error.start})")
    except OSError as error:
        return _file_problem(path, f"cannot read the file: {error.strerror or error}")
    return load_yaml(text, str(path))


def _load(paths: Sequence[str | Path]) -> tuple[list[Entry], list[str], list[SpecProblem]]:
    """Clean entries, files read, and every problem found in the files."""
    files, problems = spec_files(paths)
    entries: list[Entry] = []
    names: list[str] = []
    for path in files:
        doc = _read(path)
        if isinstance(doc, SpecProblem):
            problems.append(doc)
            continue
        names.append(doc.file)
        problems.extend(doc.problems)
        if doc.data is None and doc.problems:
            continue  # a YAML syntax error: there is nothing to validate
        schema_found = _schema_problems(doc)
        problems.extend(problem for _, problem in schema_found)
        entries.extend(_clean_entries(doc, {path[:2] for path, _ in schema_found}))
    problems.extend(lint_entries(entries))
    return entries, names, problems


def _clean_entries(doc: YamlDocument, bad: set[KeyPath]) -> Iterator[Entry]:
    """The document's bucket entries that passed the schema (lint needs well-typed data)."""
    buckets = doc.data.get("buckets") if isinstance(doc.data, dict) else None
    if not isinstance(buckets, list) or ("buckets",) in bad or () in bad:
        return
    for index, data in enumerate(buckets):
        if ("buckets", index) not in bad:
            yield Entry(doc, index, data)


def check_specs(paths: Sequence[str | Path]) -> tuple[SpecProblem, ...]:
    """Every problem in the spec files, sorted by file and line (empty when all are valid)."""
    return _sorted(_load(paths)[2])


def _sorted(problems: Sequence[SpecProblem]) -> tuple[SpecProblem, ...]:
    unique = set(problems)  # an aliased YAML node can report the same problem twice
    return tuple(sorted(unique, key=lambda p: (p.file, p.line, p.column, p.key, p.message)))


def load_specs(paths: Sequence[str | Path]) -> SpecSet:
    """Load, validate and build every spec file the paths name; raise SpecError with all problems."""
    entries, names, problems = _load(paths)
    if problems:
        raise SpecError(_sorted(problems))
    return SpecSet(buckets=tuple(build_bucket(e) for e in entries), files=tuple(names))
