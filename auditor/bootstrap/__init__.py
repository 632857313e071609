"""Specs from reality: `s3audit init` (live buckets) and `s3audit import` (templates, seed docs).

Both sides produce spec entries as plain dicts already in the spec's own shape and key order
(`{"name": ..., "region": ..., "lifecycle": [...]}`), so the YAML written is what a person
would write. What a generator could not state (a facet that was unreadable, a value only
known at deploy time) is never guessed: the key is left out and a comment in the entry says
why. Comments travel with the entry under the reserved key `COMMENTS` (a spec key can never
start with "#", the schema forbids unknown keys), and `write_specs` turns them into YAML
comments.

`write_specs` writes one `<bucket>.yaml` per entry and guarantees that what it writes loads:
every file is checked with the spec loader itself before anything reaches `out_dir`, and a
key the loader rejects is dropped (with a comment naming the problem) rather than written.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from auditor.controls import keys
from auditor.errors import AuditorError, SpecProblem

__all__ = ["BUCKET_NAME", "COMMENTS", "GenerateError", "add_comment", "render_spec", "write_pack",
           "write_specs"]

COMMENTS = "#comments"
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class GenerateError(AuditorError):
    """Bad input for init/import (no buckets, unreadable file, existing output): exit 2."""


def add_comment(entry: dict[str, Any], text: str) -> None:
    """Attach a comment line to an entry (written inside it, after its keys)."""
    entry.setdefault(COMMENTS, []).append(text)


def _one_line(text: str) -> str:
    # A comment is one line: a newline in an AWS error message or a template value must
    # not be able to start a YAML line of its own.
    return " ".join(str(text).split())


class _Dumper(yaml.SafeDumper):
    """Lists of plain values in flow style (`[GET, HEAD]`), as the shipped specs write them."""

    def represent_list(self, data: list[Any]) -> yaml.Node:  # type: ignore[override]
        flow = bool(data) and all(isinstance(item, (str, int, float, bool)) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)


def render_spec(entry: Mapping[str, Any], header: str) -> str:
    """The YAML text of a spec file holding exactly this one entry."""
    body = {k: v for k, v in entry.items() if k != COMMENTS}
    text = yaml.dump({"version": 1, "buckets": [body]}, Dumper=_Dumper, sort_keys=False,
                     default_flow_style=False, allow_unicode=True, width=100)
    head = "".join(f"# {_one_line(line)}\n" for line in header.splitlines() if line.strip())
    # PyYAML writes the list item's keys two columns in; the comments line up with them.
    tail = "".join(f"  # {_one_line(c)}\n" for c in entry.get(COMMENTS, ()))
    return head + text + tail


def _names(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for entry in entries:
        name = entry.get("name")
        # The name becomes a file name: only a valid bucket name (no "/", no "..") may.
        if not isinstance(name, str) or not BUCKET_NAME.match(name):
            raise GenerateError(f"not a valid bucket name for a spec: {name!r}")
        if name in names:
            raise GenerateError(f"bucket {name} is described twice; each bucket needs one source")
        names.append(name)
    return names


def _problems(texts: Mapping[str, str]) -> list[SpecProblem]:
    """Loader errors of the rendered files (checked in a scratch directory, not in out_dir)."""
    from auditor.spec import check_specs

    with tempfile.TemporaryDirectory(prefix="s3audit-generate-") as scratch:
        for name, text in texts.items():
            (Path(scratch) / f"{name}.yaml").write_text(text, encoding="utf-8")
        problems = check_specs([scratch])
    return [p for p in problems if p.level == "error"]


def _drop_rejected(entries: dict[str, dict[str, Any]], problems: Sequence[SpecProblem]) -> None:
    """Leave out each key the loader rejects, with a comment; fail if a whole entry is wrong."""
    stated = keys(implicit=False)
    for problem in problems:
        name = Path(problem.file).stem
        # A problem inside one control's value: ("buckets", 0, key, ...).
        key = problem.path[2] if len(problem.path) > 2 and problem.path[:2] == ("buckets", 0) else None
        if not isinstance(key, str) or key not in stated:
            raise GenerateError(f"cannot write a valid spec for {name}: "
                                f"{problem.key}: {problem.message}")
        if key in entries[name]:
            del entries[name][key]
            add_comment(entries[name], f"{key}: left out, the spec format cannot state it "
                                       f"({problem.key}: {problem.message})")


def valid_texts(entries: Sequence[Mapping[str, Any]], header: str) -> dict[str, str]:
    """name -> YAML text for each entry, every text loading without errors."""
    work = {name: dict(entry) for name, entry in zip(_names(entries), entries)}
    for entry in work.values():
        entry[COMMENTS] = list(entry.get(COMMENTS, ()))  # our own copy: comments get added
    for _ in range(len(keys()) + 1):  # each round drops at least one key per problem
        texts = {name: render_spec(entry, header) for name, entry in work.items()}
        problems = _problems(texts)
        if not problems:
            return texts
        _drop_rejected(work, problems)
    raise GenerateError("could not produce valid specs")  # unreachable: keys run out first


def write_specs(entries: Sequence[Mapping[str, Any]], out_dir: Path, header: str,
                force: bool = False) -> list[Path]:
    """Write one `<bucket>.yaml` per entry into out_dir; never overwrite unless `force`."""
    from auditor.files import write_atomic

    if out_dir.exists() and not out_dir.is_dir():
        raise GenerateError(f"{out_dir} exists and is not a directory")
    texts = valid_texts(entries, header)
    targets = {name: out_dir / f"{name}.yaml" for name in texts}
    existing = [str(path) for path in targets.values() if path.exists()]
    if existing and not force:
        # Checked for all files before writing any: a refused run leaves out_dir untouched.
        raise GenerateError(f"refusing to overwrite {', '.join(existing)} (use --force)")
    for name, path in targets.items():
        write_atomic(path, texts[name])
    return list(targets.values())


def write_pack(name: str, out_dir: Path, force: bool = False) -> Path:
    """Write a framework's built-in baseline as `<name>.yaml` into out_dir, to adopt and edit."""
    from auditor.files import write_atomic
    from auditor.frameworks.pack import pack_text

    if out_dir.exists() and not out_dir.is_dir():
        raise GenerateError(f"{out_dir} exists and is not a directory")
    target = out_dir / f"{name}.yaml"
    if target.exists() and not force:
        raise GenerateError(f"refusing to overwrite {target} (use --force)")
    write_atomic(target, pack_text(name))
    return target
