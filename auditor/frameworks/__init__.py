"""Security frameworks as data: which requirement each control and spec value meets.

Each framework is one YAML file beside this module (`aws-fsbp.yaml`, `cis-aws.yaml`): its
requirements, each with its source URL, how well s3audit covers it, and the control values
that meet it. From those files come a result's `frameworks` ids, `s3audit rules --framework`,
`validate --framework` and the built-in baselines of `audit --pack` / `init --pack`. Pure:
no AWS, no collector.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml

from auditor.controls import Control, control
from auditor.jsonable import to_jsonable
from auditor.model import Scope

Coverage = Literal["full", "partial", "stricter", "not covered"]
COVERAGE: tuple[Coverage, ...] = ("full", "partial", "stricter", "not covered")
# How a spec value meets a requirement (`value` is the framework file's, in spec form):
#   equals    the built value equals the built `value`
#   one_of    it equals one of the built values in the list `value`
#   any_but   it is anything but the built `value` (logging: anything but false)
#   at_least  a mapping stating at least these keys with these values (a list: any of them)
#   each      a list each of whose items states at least `value` ([] meets it)
#   has       a mapping whose key `value` (or any of the keys listed) holds a non-empty list
#   non_empty any stated value that is not empty (a list with items; any mapping)
Mode = Literal["equals", "one_of", "any_but", "at_least", "each", "has", "non_empty"]
MODES: tuple[Mode, ...] = ("equals", "one_of", "any_but", "at_least", "each", "has", "non_empty")


class FrameworkError(ValueError):
    """A framework file that does not say what it must (a bug in s3audit's data)."""


@dataclass(frozen=True, slots=True)
class Meets:
    """One way to meet a requirement: this control at this scope, with a value in `mode`."""

    control: str
    scope: Scope
    mode: Mode
    value: Any = None
    pack_value: Any = None  # what a built-in baseline states, where `value` alone does not say

    @property
    def target(self) -> Control:
        return control(self.control, self.scope)

    def satisfied(self, want: Any) -> bool:
        """Whether a built spec value of this control meets the requirement."""
        if self.mode == "equals":
            return bool(want == _built(self, self.value))
        if self.mode == "one_of":
            return any(want == _built(self, v) for v in self.value)
        if self.mode == "any_but":
            return bool(want != _built(self, self.value))
        shaped = to_jsonable(want)
        if self.mode == "at_least":
            return _at_least(shaped, self.value)
        if self.mode == "each":
            return isinstance(shaped, list) and all(_at_least(item, self.value) for item in shaped)
        if self.mode == "has":
            keys = self.value if isinstance(self.value, list) else [self.value]
            return isinstance(shaped, dict) and any(shaped.get(k) for k in keys)
        return bool(shaped)  # non_empty

    @property
    def baseline(self) -> Any:
        """The value a built-in baseline states for this way of meeting the requirement."""
        if self.pack_value is not None:
            return self.pack_value
        if self.mode == "equals":
            return self.value
        if self.mode == "one_of":
            return self.value[0]
        if self.mode == "at_least":
            return {k: v[0] if isinstance(v, list) else v for k, v in self.value.items()}
        raise FrameworkError(f"{self.control}: mode {self.mode} needs a pack_value for a baseline")


_BUILT: dict[tuple[Scope, str, str], Any] = {}


def _built(meets: Meets, value: Any) -> Any:
    """The control's built form of a framework value, built once per run."""
    key = (meets.scope, meets.control, repr(value))
    if key not in _BUILT:
        _BUILT[key] = meets.target.want(value)
    return _BUILT[key]


def _at_least(shaped: Any, wanted: Mapping[str, Any]) -> bool:
    if not isinstance(shaped, dict):
        return False
    for key, value in wanted.items():
        if isinstance(value, dict):
            if not _at_least(shaped.get(key), value):
                return False
        elif shaped.get(key) not in (value if isinstance(value, list) else [value]):
            return False
    return True


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    title: str
    url: str
    coverage: Coverage
    meets: tuple[Meets, ...] = ()
    pack: bool = False  # the built-in baseline states its first way of meeting it
    note: str = ""


@dataclass(frozen=True, slots=True)
class Framework:
    name: str
    title: str
    version: str
    source: str
    requirements: tuple[Requirement, ...]
    notes: str = ""

    def requirement(self, rid: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == rid), None)


NAMES = ("aws-fsbp", "cis-aws")


def _meets(raw: Mapping[str, Any], where: str) -> Meets:
    modes = [m for m in MODES if m in raw]
    if len(modes) != 1 or not set(raw) <= {"control", "scope", "pack_value", *MODES}:
        raise FrameworkError(f"{where}: needs control and exactly one of {', '.join(MODES)}")
    meets = Meets(str(raw["control"]), Scope(raw.get("scope", "bucket")), modes[0],
                  raw[modes[0]], raw.get("pack_value"))
    meets.target  # noqa: B018 - KeyError for a control s3audit does not have
    return meets


def _requirement(raw: Mapping[str, Any], where: str) -> Requirement:
    coverage = raw.get("coverage")
    if coverage not in COVERAGE:
        raise FrameworkError(f"{where}: coverage {coverage!r} is not one of {', '.join(COVERAGE)}")
    meets = tuple(_meets(m, f"{where}.meets[{i}]") for i, m in enumerate(raw.get("meets") or ()))
    if (coverage == "not covered") != (not meets):
        raise FrameworkError(f"{where}: a requirement is 'not covered' exactly when nothing meets it")
    if not raw.get("note") and coverage != "full":
        raise FrameworkError(f"{where}: say in a note why coverage is {coverage}")
    return Requirement(str(raw["id"]), str(raw["title"]), str(raw["url"]), coverage, meets,
                       bool(raw.get("pack", False)), str(raw.get("note") or ""))


@functools.cache
def framework(name: str) -> Framework:
    """The named framework, loaded from its data file; KeyError for an unknown name."""
    if name not in NAMES:
        raise KeyError(name)
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    requirements = tuple(_requirement(r, f"{name}.yaml requirements[{i}] ({r.get('id')})")
                         for i, r in enumerate(raw["requirements"]))
    return Framework(name, raw["title"], str(raw["version"]), raw["source"], requirements,
                     str(raw.get("notes") or ""))


def frameworks() -> tuple[Framework, ...]:
    return tuple(framework(n) for n in NAMES)


@functools.cache
def _by_control() -> dict[tuple[Scope, str], tuple[tuple[str, Requirement, Meets], ...]]:
    found: dict[tuple[Scope, str], list[tuple[str, Requirement, Meets]]] = {}
    for fw in frameworks():
        for req in fw.requirements:
            for meets in req.meets:
                found.setdefault((meets.scope, meets.control), []).append((fw.name, req, meets))
    return {k: tuple(v) for k, v in found.items()}


def requirement_ids(scope: Scope, key: str, want: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """framework name -> the requirement ids this control's spec value meets, in file order."""
    out: dict[str, list[str]] = {}
    for name, req, meets in _by_control().get((scope, key), ()):
        if req.id not in out.get(name, []) and meets.satisfied(want):
            out.setdefault(name, []).append(req.id)
    return tuple((name, tuple(ids)) for name, ids in out.items())


def ids_of_control(scope: Scope, key: str) -> tuple[str, ...]:
    """Every `framework/requirement` a value of this control can meet (SARIF rule tags)."""
    return tuple(dict.fromkeys(f"{name}/{req.id}" for name, req, _ in _by_control().get((scope, key), ())))


def baseline(name: str) -> dict[Scope, list[tuple[str, Any, tuple[str, ...]]]]:
    """The built-in baseline of a framework: per scope, (control key, value, requirement ids),
    in registry order. A pack requirement states its first way of meeting it at each scope;
    requirements that state the same key must agree on its value."""
    fw = framework(name)
    found: dict[tuple[Scope, str], tuple[Any, list[str]]] = {}
    for req in fw.requirements:
        if not req.pack:
            continue
        firsts = {m.scope: m for m in reversed(req.meets)}
        for meets in firsts.values():
            key = (meets.scope, meets.control)
            value = meets.baseline
            if key in found and found[key][0] != value:
                raise FrameworkError(f"{name}: {req.id} states {meets.control} as {value!r}, "
                                     f"another requirement as {found[key][0]!r}")
            found.setdefault(key, (value, []))[1].append(req.id)
    from auditor.controls import CONTROLS

    out: dict[Scope, list[tuple[str, Any, tuple[str, ...]]]] = {}
    for c in CONTROLS:
        if (c.scope, c.key) in found:
            value, ids = found[c.scope, c.key]
            out.setdefault(c.scope, []).append((c.key, value, tuple(ids)))
    return out


def below_bar(name: str, scope: Scope, stated: Mapping[str, Any]) -> Iterator[tuple[Requirement, str]]:
    """For a (merged) entry's built wants: each pack requirement it does not meet, and why."""
    for req in framework(name).requirements:
        mine = [m for m in req.meets if m.scope is scope]
        if not req.pack or not mine:
            continue
        keys = [m.control for m in mine]
        if not any(m.control in stated for m in mine):
            yield req, f"does not state {' or '.join(dict.fromkeys(keys))}"
        elif not any(m.control in stated and m.satisfied(stated[m.control]) for m in mine):
            yield req, f"states {', '.join(k for k in dict.fromkeys(keys) if k in stated)} below the bar"
