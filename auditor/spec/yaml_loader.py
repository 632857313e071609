"""YAML loading for spec files: marks for every key and value, duplicate keys refused.

PyYAML's `SafeLoader` forgets where things were and lets a repeated key silently win.
`SpecLoader` hooks `construct_mapping` to remember each mapping's key and value nodes and
to spot repeated keys; after construction the remembered nodes are walked once from the
root to give every key and value a path (`("buckets", 0, "versioning")`) and a position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from auditor.errors import SpecProblem

KeyPath = tuple[str | int, ...]
Position = tuple[int, int]  # (line, column), both 1-based

# Limits that refuse hostile documents fast, before construction, schema or walk could
# take time or memory exponential in the file's size: a "billion laughs" alias bomb, a
# 10,000-deep nesting (PyYAML's composer recurses, and would end in RecursionError).
MAX_ALIASES = 1_000  # alias uses (*name) per document
MAX_NODES = 200_000  # nodes once every alias is expanded
MAX_DEPTH = 64  # nested lists/mappings (a spec needs about 8)

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(path: Sequence[str | int]) -> str:
    """Render a key path readably: `buckets[0].lifecycle[1].id`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


@dataclass(frozen=True, slots=True)
class Marks:
    """Where each key and value of one document starts, by key path."""

    keys: Mapping[KeyPath, Position] = field(default_factory=dict)
    values: Mapping[KeyPath, Position] = field(default_factory=dict)

    def position(self, path: Sequence[str | int]) -> Position:
        """The key's position, else the value's, else the nearest enclosing one's; (1, 1) at worst."""
        current = tuple(path)
        while True:
            found = self.keys.get(current) or self.values.get(current)
            if found is not None:
                return found
            if not current:
                return (1, 1)
            current = current[:-1]


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One loaded spec file: its plain data, the marks, and the problems found while loading."""

    file: str
    data: Any
    marks: Marks
    problems: tuple[SpecProblem, ...] = ()

    def problem(self, path: Sequence[str | int], message: str, level: str = "error") -> SpecProblem:
        """A problem located at `path` (the line of its key) in this document."""
        line, column = self.marks.position(path)
        return SpecProblem(self.file, line, column, format_path(path), message, level, tuple(path))


def _without_timestamps() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    # An unquoted `expires: 2026-01-01` would otherwise become a datetime.date, and the
    # schema (and the user) think of dates as YYYY-MM-DD strings.
    resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = yaml.SafeLoader.yaml_implicit_resolvers
    return {
        first: [(tag, regexp) for tag, regexp in entries if tag != _TIMESTAMP_TAG]
        for first, entries in resolvers.items()
    }


class LimitExceeded(yaml.MarkedYAMLError):
    """A document past one of the loader's limits; reported at the mark that crossed it."""


class SpecLoader(yaml.SafeLoader):
    """SafeLoader that keeps key/value nodes per mapping and reports duplicate keys.

    Keys are always strings: a scalar key is taken as written (`1:` is the key "1", `yes:`
    the key "yes"), because spec keys are names, and YAML 1.1 would turn those into an int
    and a bool that no error message could show as the user typed them.
    """

    yaml_implicit_resolvers = _without_timestamps()

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.entries: dict[int, dict[str, tuple[Node, Node]]] = {}
        self.duplicates: dict[int, list[tuple[str, Node, Node]]] = {}
        self.bad_keys: list[Node] = []
        self._own_keys: dict[int, list[Node]] = {}
        self._aliases = 0
        self._depth = 0
        self.first_alias: Any = None  # the mark of the first alias, where an expansion is reported

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            self.first_alias = self.first_alias or mark
            if self._aliases > MAX_ALIASES:
                raise LimitExceeded(None, None, f"more than {MAX_ALIASES} aliases (*name) in one "
                                    "document; refusing what may be an alias bomb", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise LimitExceeded(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def flatten_mapping(self, node: MappingNode) -> None:
        # Remember the keys written in this mapping before `<<` merges are spliced in:
        # a merged key that the mapping overrides is not a duplicate.
        self._own_keys.setdefault(id(node), [k for k, _ in node.value if k.tag != _MERGE_TAG])
        super().flatten_mapping(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        self._note_duplicates(node)
        mapping: dict[Any, Any] = {}
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.bad_keys.append(key_node)
                continue
            key = str(key_node.value)
            mapping[key] = self.construct_object(value_node, deep=deep)
            entries[key] = (key_node, value_node)
        self.entries[id(node)] = entries
        return mapping

    def _note_duplicates(self, node: MappingNode) -> None:
        seen: dict[str, Node] = {}
        for key_node in self._own_keys.get(id(node), []):
            if not isinstance(key_node, ScalarNode):
                continue
            key = str(key_node.value)
            if key in seen:
                self.duplicates.setdefault(id(node), []).append((key, seen[key], key_node))
            else:
                seen[key] = key_node


def _pos(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


@dataclass
class _Walk:
    """Collects marks and duplicate-key problems by walking the constructed node graph."""

    loader: SpecLoader
    file: str
    keys: dict[KeyPath, Position] = field(default_factory=dict)
    values: dict[KeyPath, Position] = field(default_factory=dict)
    problems: list[SpecProblem] = field(default_factory=list)
    stack: set[int] = field(default_factory=set)

    def visit(self, node: Node, path: KeyPath) -> None:
        self.values.setdefault(path, _pos(node))
        if id(node) in self.stack:  # a recursive alias: its marks are already recorded
            return
        self.stack.add(id(node))
        if isinstance(node, MappingNode):
            self._visit_mapping(node, path)
        elif isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                self.visit(child, (*path, index))
        self.stack.discard(id(node))

    def _visit_mapping(self, node: MappingNode, path: KeyPath) -> None:
        for key, first, second in self.loader.duplicates.get(id(node), []):
            line, column = _pos(second)
            self.problems.append(SpecProblem(
                self.file, line, column, format_path((*path, key)),
                f"duplicate key '{key}' (first given on line {_pos(first)[0]})",
                path=(*path, key),
            ))
        for key, (key_node, value_node) in self.loader.entries.get(id(node), {}).items():
            self.keys.setdefault((*path, key), _pos(key_node))
            self.visit(value_node, (*path, key))


def _syntax_problem(file: str, error: yaml.YAMLError) -> SpecProblem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        what = ": ".join(p for p in (error.context, error.problem) if p)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return SpecProblem(file, line, column, "", f"YAML syntax error: {what}")
    return SpecProblem(file, 1, 1, "", f"YAML syntax error: {error}")


def _expanded_size(node: Node, seen: dict[int, int], open_: set[int]) -> int:
    """How many nodes the document has once aliases are expanded (an alias counts its whole
    target each time); a node that contains itself is refused."""
    if id(node) in seen:
        return seen[id(node)]
    if id(node) in open_:
        raise LimitExceeded(None, None, "an alias refers to a node that contains it (a "
                            "recursive structure, which no spec needs)", node.start_mark)
    open_.add(id(node))
    size = 1
    if isinstance(node, SequenceNode):
        size += sum(_expanded_size(child, seen, open_) for child in node.value)
    elif isinstance(node, MappingNode):
        size += sum(_expanded_size(k, seen, open_) + _expanded_size(v, seen, open_) for k, v in node.value)
    open_.discard(id(node))
    seen[id(node)] = size
    return size


def _check_expansion(loader: SpecLoader, node: Node) -> None:
    if loader.first_alias is None:
        return  # without aliases the node count is the file's own size
    if _expanded_size(node, {}, set()) > MAX_NODES:
        raise LimitExceeded(None, None, f"aliases expand the document past {MAX_NODES} nodes; "
                            "refusing what may be an alias bomb", loader.first_alias)


def _limit_problem(file: str, error: LimitExceeded) -> SpecProblem:
    mark = error.problem_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return SpecProblem(file, line, column, "", str(error.problem))


def load_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document into plain data plus marks; syntax errors become problems."""
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(loader, node)
        data = loader.construct_document(node) if node is not None else None
    except LimitExceeded as error:
        return YamlDocument(file, None, Marks(), (_limit_problem(file, error),))
    except yaml.YAMLError as error:
        return YamlDocument(file, None, Marks(), (_syntax_problem(file, error),))
    finally:
        loader.dispose()
    walk = _Walk(loader, file)
    if node is not None:
        walk.visit(node, ())
    for key_node in loader.bad_keys:
        line, column = _pos(key_node)
        walk.problems.append(SpecProblem(
            file, line, column, "", "a mapping key must be a plain name, not a list or mapping"
        ))
    return YamlDocument(file, data, Marks(walk.keys, walk.values), tuple(walk.problems))
