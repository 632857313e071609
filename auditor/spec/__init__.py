"""Loading spec files: YAML with marks, JSON Schema, semantic lint, then typed `BucketSpec`s.

Every problem in every file is collected before anything is raised, so one `validate` run
shows the user everything to fix, each as `file:line:col: key: message`.
"""

from __future__ import annotations

import difflib
import errno
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from auditor.errors import SpecError, SpecProblem, excerpt
from auditor.model import SpecSet
from auditor.spec.build import (
    SECTIONS,
    Entry,
    build_entry,
    build_waivers,
    effective_spec,
    matching_entries,
)
from auditor.spec.lint import lint_entries, lint_waivers
from auditor.spec.schema import SCHEMA_PATH, schema, schema_text
from auditor.spec.yaml_loader import KeyPath, YamlDocument, load_yaml

__all__ = [
    "SCHEMA_PATH",
    "check_specs",
    "effective_spec",
    "load_specs",
    "matching_entries",
    "schema",
    "schema_text",
    "spec_files",
    "validate_document",
]

SPEC_SUFFIXES = (".yaml", ".yml")
# Larger than any spec needs (init writes one file per bucket), small enough to parse in a
# few seconds: PyYAML reads about a megabyte a second.
MAX_FILE_BYTES = 4 * 2**20

_TYPE_NAMES = {
    "boolean": "true or false", "integer": "a whole number", "number": "a number",
    "string": "a string", "object": "a mapping", "array": "a list", "null": "empty",
}


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
        return f"the string {excerpt(value)}"
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
    return custom.replace("{value}", excerpt(_instance(error))) if isinstance(custom, str) else None


def _closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice `word` is most likely a misspelling of, if any."""
    if len(word) > 100:
        return None  # no key or value is that long; comparing would only cost time
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    # difflib misses a different case ("enabled") and abbreviations ("index").
    close = close or [c for c in choices if c.lower() == word.lower()]
    close = close or [c for c in choices if len(word) >= 3 and c.startswith(word)]
    return close[0] if close else None


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
    shown = excerpt(instance)
    if kind == "enum":
        options = [str(o) for o in limit]
        close = _closest(str(instance), options)
        hint = f"; did you mean '{close}'?" if close else ""
        return f"{shown} is not one of {', '.join(options)}{hint}"
    simple = {
        "const": f"must be {limit!r}, not {shown}",
        "minimum": f"must be at least {limit}, not {shown}",
        "maximum": f"must be at most {limit}, not {shown}",
        "minItems": "must not be empty" if limit == 1 else f"needs at least {limit} items",
        "minLength": "must not be empty",
        "maxLength": f"must be at most {limit} characters long",
        "format": f"{shown} is not a valid {limit}",
        "pattern": f"{shown} does not match {limit!r}",
    }
    return simple.get(kind, error.message if len(error.message) <= 200 else error.message[:199] + "…")


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


@dataclass(frozen=True, slots=True)
class _Found:
    """One schema problem before it is located; `missing`/`typo_of` relate keys of `owner`."""

    path: KeyPath
    message: str
    owner: KeyPath = ()  # the mapping the keys below belong to
    missing: tuple[str, ...] = ()  # keys whose absence this problem reports
    typo_of: str | None = None  # for an unknown key: the allowed key it probably misspells


def _alternatives(error: ValidationError) -> list[str]:
    """For oneOf/anyOf whose branches are all `{required: [key]}`: those keys."""
    branches = _limit(error) if error.validator in ("oneOf", "anyOf") else []
    if not all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
        return []
    return [k for b in branches for k in b["required"]]


def _explain(doc: YamlDocument, error: ValidationError) -> Iterator[_Found]:
    """The problems one error stands for; unknown or missing keys get a path of their own."""
    path: KeyPath = tuple(error.absolute_path)
    instance = _instance(error)
    if not isinstance(instance, dict):
        yield _Found(path, _message(error))
    elif error.validator == "additionalProperties":
        allowed = list(_schema_of(error).get("properties", {}))
        for key in (k for k in instance if k not in allowed):
            close = _closest(key, allowed)
            hint = f"did you mean '{close}'?" if close else f"allowed keys: {', '.join(allowed)}"
            yield _Found((*path, key), f"unknown key {excerpt(key)}; {hint}", path, typo_of=close)
    elif error.validator == "required":
        for key in (k for k in _limit(error) if k not in instance):
            yield _Found((*path, key), f"required key '{key}' is missing", path, (key,))
    elif alternatives := _alternatives(error):
        present = [k for k in alternatives if k in instance]
        if present:  # oneOf with several given: point at the one written last
            last = max(present, key=lambda k: doc.marks.position((*path, k)))
            yield _Found((*path, last), _message(error))
        else:
            yield _Found(path, _message(error), path, tuple(alternatives))
    else:
        yield _Found(path, _message(error))


def _schema_problems(doc: YamlDocument) -> list[tuple[KeyPath, SpecProblem]]:
    if doc.data is None:
        return [((), doc.problem((), "the file is empty; a spec needs 'version: 1' and 'buckets'"))]
    found = [f for e in _validator().iter_errors(doc.data) for f in _explain(doc, _relevant(e))]
    # `storage_clas: X` also leaves `storage_class` missing; the typo is the one to report.
    typos = {(f.owner, f.typo_of) for f in found if f.typo_of}
    kept: dict[KeyPath, str] = {}
    for f in found:
        if not any((f.owner, key) in typos for key in f.missing):
            kept.setdefault(f.path, f.message)  # one per path: the first (type comes first)
    return [(path, doc.problem(path, message)) for path, message in kept.items()]


def validate_document(doc: YamlDocument) -> list[SpecProblem]:
    """JSON Schema problems of one loaded document, each on the line of its key."""
    return [problem for _, problem in _schema_problems(doc)]


# --------------------------------------------------------------------------- files


def _file_problem(path: Path | str, message: str, line: int = 1, column: int = 1) -> SpecProblem:
    return SpecProblem(str(path), line, column, "", message)


def _link_problem(path: Path) -> SpecProblem | None:
    """A symbolic link that leads nowhere (dangling) or in a circle (a loop), or None."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return _file_problem(path, "symbolic link loop: the link never reaches a file")
        if path.is_symlink():
            return _file_problem(path, f"dangling symbolic link to {os.readlink(path)}")
        return _file_problem(path, f"cannot read: {error.strerror or error}")
    return None


def _below(directory: Path) -> tuple[list[Path], list[SpecProblem]]:
    """Spec files below a directory, symlinked directories followed once each (a link that
    loops back, or a second link to a directory already read, adds nothing), and a problem
    for every spec-named link that is dangling or a loop."""
    found: list[Path] = []
    problems: list[SpecProblem] = []
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(directory, followlinks=True):
        here = Path(root)
        info = os.stat(here)
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        # Hidden files and directories (.git, .github, editor droppings) are never specs.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = here / name
            if Path(name).suffix not in SPEC_SUFFIXES or name.startswith("."):
                continue
            problem = _link_problem(path)
            if problem is not None:
                problems.append(problem)
            elif path.is_file():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(directory).parts), problems


def spec_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[SpecProblem]]:
    """The spec files the paths name (directories expanded, sorted), and path problems."""
    files: list[Path] = []
    problems: list[SpecProblem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            below, trouble = _below(path)
            files.extend(below)
            problems.extend(trouble)
            if not below and not trouble:
                problems.append(_file_problem(path, "no *.yaml or *.yml spec files found here"))
        elif path.is_file():
            files.append(path)
        elif path.is_symlink():
            problems.append(_link_problem(path) or _file_problem(path, "not a file or directory"))
        else:
            problems.append(_file_problem(path, "no such file or directory"))
    unique: dict[Path, Path] = {}
    for file in files:  # a file named twice (itself, via its directory, via a link) is loaded once
        unique.setdefault(file.resolve(), file)
    return list(unique.values()), problems


def _undecodable(path: Path, data: bytes, error: UnicodeDecodeError) -> SpecProblem:
    """Where the first byte that is not UTF-8 is: its line and column (in characters)."""
    line = data.count(b"\n", 0, error.start) + 1
    line_start = data.rfind(b"\n", 0, error.start) + 1
    column = len(data[line_start:error.start].decode("utf-8", "replace")) + 1
    byte = data[error.start]
    return _file_problem(path, f"not UTF-8 text: byte 0x{byte:02x} ({error.reason}); save the "
                               "file as UTF-8", line, column)


def _read(path: Path) -> YamlDocument | SpecProblem:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return _file_problem(path, f"the file is {size / 2**20:.1f} MiB; a spec file may be at "
                                       f"most {MAX_FILE_BYTES // 2**20} MiB (split it, or use match: globs)")
        data = path.read_bytes()
    except OSError as error:
        return _file_problem(path, f"cannot read the file: {error.strerror or error}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _undecodable(path, data, error)
    return load_yaml(text, str(path))


def _pack_documents(packs: Sequence[str]) -> list[YamlDocument]:
    from auditor.frameworks.pack import pack_text, source

    return [load_yaml(pack_text(name), source(name)) for name in dict.fromkeys(packs)]


def _load(paths: Sequence[str | Path], packs: Sequence[str] = ()
          ) -> tuple[list[Entry], list[YamlDocument], list[SpecProblem]]:
    """Clean entries, documents read, and every problem found in the files. Built-in
    baselines (`packs`) are read first, so they lie beneath every entry of the files."""
    files, problems = spec_files(paths)
    entries: list[Entry] = []
    names: list[YamlDocument] = []
    bad: set[tuple[str, KeyPath]] = set()  # (file, ("buckets", i)) of entries the schema rejected
    sources: list[YamlDocument | Path] = [*_pack_documents(packs), *files]
    for path in sources:
        doc = path if isinstance(path, YamlDocument) else _read(path)
        if isinstance(doc, SpecProblem):
            problems.append(doc)
            continue
        names.append(doc)
        problems.extend(doc.problems)
        if doc.data is None and doc.problems:
            continue  # a YAML syntax error: there is nothing to validate
        schema_found = _schema_problems(doc)
        problems.extend(problem for _, problem in schema_found)
        bad.update((doc.file, path[:2]) for path, _ in schema_found)
        bad.update((doc.file, ("waivers",)) for path, _ in schema_found if path[:1] == ("waivers",))
        entries.extend(_entries(doc))
    problems.extend(lint_entries(entries, lambda e: (e.doc.file, e.path) not in bad))
    problems.extend(p for doc in names if (doc.file, ("waivers",)) not in bad for p in lint_waivers(doc))
    return entries, names, problems


def _entries(doc: YamlDocument) -> Iterator[Entry]:
    """The document's bucket and account entries that are mappings (schema-valid or not)."""
    for scope, section in SECTIONS.items():
        items = doc.data.get(section) if isinstance(doc.data, dict) else None
        for index, data in enumerate(items if isinstance(items, list) else ()):
            if isinstance(data, dict):
                yield Entry(doc, index, data, scope)


def check_specs(paths: Sequence[str | Path], packs: Sequence[str] = ()) -> tuple[SpecProblem, ...]:
    """Every problem (error or warning) in the spec files, sorted by file and line (empty when
    all are valid); notes, advice rather than problems, come with `load_specs`."""
    return _sorted([p for p in _load(paths, packs)[2] if p.level != "note"])


def _sorted(problems: Sequence[SpecProblem]) -> tuple[SpecProblem, ...]:
    unique = set(problems)  # an aliased YAML node can report the same problem twice
    return tuple(sorted(unique, key=lambda p: (p.file, p.line, p.column, p.key, p.message)))


def load_specs(paths: Sequence[str | Path], packs: Sequence[str] = ()) -> SpecSet:
    """Load, validate and build every spec file the paths name, beneath the built-in
    baselines `packs`; raise SpecError with all problems."""
    entries, docs, problems = _load(paths, packs)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise SpecError(_sorted(errors))
    return SpecSet(
        entries=tuple(build_entry(e) for e in entries),
        files=tuple(d.file for d in docs),
        waivers=tuple(w for d in docs for w in build_waivers(d)),
        warnings=tuple(str(p) for p in _sorted(problems) if p.level == "warning"),
        notes=tuple(str(p) for p in _sorted(problems) if p.level == "note"),
    )
