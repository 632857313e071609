"""IAM wildcard languages and condition operators, decided exactly (no regex approximations).

A pattern such as ``arn:aws:s3:::bucket/a*`` is a regular language. "Does this Deny cover every
object?" is language inclusion, and "can this Allow touch the bucket?" is intersection; both are
answered by walking the product of the patterns' automata over a small alphabet: every literal
character that appears in some pattern, plus one stand-in for every other character (all such
characters behave alike, since only ``*`` and ``?`` can match them).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

STAR = "\x00*"  # wildcard tokens are two characters long, so they never equal a literal one
ANY = "\x00?"
_OTHER = "\ue000"  # stands for every character that no pattern names
_MAX_STATES = 50_000  # realistic policies need a few hundred; this bounds a hostile one (~2 s)

Glob = tuple[str, ...]
State = frozenset[tuple[int, int]]


class PolicyTooComplexError(ValueError):
    """The policy's wildcards are too intricate to decide within s3audit's state budget."""


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, *, fold: bool) -> Glob:
    """Tokens of an IAM pattern: ``*`` any run, ``?`` one character, the rest literal."""
    # ${*} ${?} ${$} are IAM's escapes for the literal characters; other ${...} policy variables
    # are kept as literal text, which never makes a Deny look wider than it is.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    text = pattern.lower() if fold else pattern
    tokens: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("${*}", "${?}", "${$}"), i):
            tokens.append(text[i + 2])
            i += 4
            continue
        tokens.append({"*": STAR, "?": ANY}.get(text[i], text[i]))
        i += 1
    return tuple(tokens)


def _closure(glob: Glob, i: int) -> list[int]:
    out = [i]
    while i < len(glob) and glob[i] == STAR:
        i += 1
        out.append(i)
    return out


@dataclass(frozen=True, slots=True)
class Lang:
    """A union of globs, or (negated) everything outside that union."""

    globs: tuple[Glob, ...]
    negated: bool = False
    fold: bool = False

    @classmethod
    def of(cls, patterns: Iterable[str], *, fold: bool, negated: bool = False) -> Lang:
        return cls(tuple(compile_glob(p, fold=fold) for p in patterns), negated, fold)

    @classmethod
    def exact(cls, text: str, *, fold: bool = False) -> Lang:
        return cls((tuple(text.lower() if fold else text),), False, fold)

    def start(self) -> State:
        return frozenset((g, j) for g, glob in enumerate(self.globs) for j in _closure(glob, 0))

    def step(self, state: State, char: str) -> State:
        nxt: set[tuple[int, int]] = set()
        for g, i in state:
            glob = self.globs[g]
            if i == len(glob):
                continue
            if glob[i] == STAR:
                nxt.update((g, j) for j in _closure(glob, i))
            elif glob[i] in (ANY, char):
                nxt.update((g, j) for j in _closure(glob, i + 1))
        return frozenset(nxt)

    def accepts(self, state: State) -> bool:
        return any(i == len(self.globs[g]) for g, i in state) != self.negated

    def matches(self, text: str) -> bool:
        state = self.start()
        for char in text.lower() if self.fold else text:
            state = self.step(state, char)
        return self.accepts(state)

    def chars(self) -> set[str]:
        return {t for glob in self.globs for t in glob if len(t) == 1}


def witness(must: Sequence[Lang], must_not: Sequence[Lang] = ()) -> str | None:
    """A shortest string in every `must` language and in no `must_not` one, or None."""
    langs = (*must, *must_not)
    alphabet = sorted(set().union(*(lang.chars() for lang in langs)) | {_OTHER})
    start = tuple(lang.start() for lang in langs)
    parent: dict[tuple[State, ...], tuple[tuple[State, ...], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        states = queue.popleft()
        verdicts = [lang.accepts(s) for lang, s in zip(langs, states)]
        if all(verdicts[: len(must)]) and not any(verdicts[len(must) :]):
            return _path(parent, states)
        for char in alphabet:
            nxt = tuple(lang.step(s, char) for lang, s in zip(langs, states))
            if nxt in parent or _dead(nxt, langs, len(must)):
                continue
            parent[nxt] = (states, char)
            queue.append(nxt)
        if len(parent) > _MAX_STATES:
            raise PolicyTooComplexError("policy wildcards are too intricate to evaluate")
    return None


def _dead(states: tuple[State, ...], langs: Sequence[Lang], n_must: int) -> bool:
    # An automaton with no live state accepts forever after exactly when it is negated.
    return any(
        not s and lang.negated != (k < n_must) for k, (lang, s) in enumerate(zip(langs, states))
    )


def _path(parent: dict[tuple[State, ...], tuple[tuple[State, ...], str] | None],
          states: tuple[State, ...]) -> str:
    chars: list[str] = []
    link = parent[states]
    while link is not None:
        states, char = link
        chars.append(char)
        link = parent[states]
    return "".join(reversed(chars)).replace(_OTHER, "_")


def covers(target: Lang, union: Sequence[Lang]) -> bool:
    """True when every string of `target` is in some language of `union`."""
    fast = _simple_covers(target, union)
    return fast if fast is not None else witness([target], union) is None


def intersects(a: Lang, b: Lang) -> bool:
    """True when some string is in both languages."""
    fast = _simple_intersects(a, b)
    return fast if fast is not None else witness([a, b]) is not None


# Fast paths. Nearly every real policy names ARNs like "arn:aws:s3:::b", "arn:aws:s3:::b/*"
# or "s3:Get*": a literal followed only by wildcards. Such a glob is the set of strings
# L + s with |s| == n (no `*` in the tail) or |s| >= n (a `*` in it), any characters in s.
# Inclusion and intersection of those sets are plain prefix and length arithmetic, exactly
# what the automaton walk decides at a hundred times the cost; other shapes still take it.
_Simple = tuple[str, int, bool]  # literal, wildcard characters required, open-ended


def _simple_glob(glob: Glob) -> _Simple | None:
    literal = 0
    while literal < len(glob) and glob[literal] not in (STAR, ANY):
        literal += 1
    tail = glob[literal:]
    if any(t not in (STAR, ANY) for t in tail):
        return None
    return "".join(glob[:literal]), tail.count(ANY), STAR in tail


def _simple_lang(lang: Lang) -> list[_Simple] | None:
    if lang.negated:
        return None
    out = [_simple_glob(g) for g in lang.globs]
    return None if any(x is None for x in out) else out  # type: ignore[return-value]


def _extra_lengths(target: _Simple, glob: _Simple) -> tuple[int, int | None] | None:
    """The lengths of the target's wildcard part for which `glob` holds every target string."""
    prefix, need, open_ = glob
    if not target[0].startswith(prefix):
        return None  # glob fixes characters that the target leaves free (or contradicts)
    low = need - (len(target[0]) - len(prefix))
    return (max(low, 0), None) if open_ else ((low, low) if low >= 0 else None)


def _simple_covers(target: Lang, union: Sequence[Lang]) -> bool | None:
    targets, globs = _simple_lang(target), [_simple_lang(u) for u in union]
    if targets is None or any(g is None for g in globs):
        return None
    members = [g for gs in globs for g in gs or ()]
    for prefix, need, open_ in targets:
        # With an unbounded alphabet, strings of one length are all covered only if one glob
        # holds all of them: check the lengths one by one, up to the first open-ended cover.
        spans = [x for x in (_extra_lengths((prefix, need, open_), g) for g in members) if x]
        if open_:
            unbounded = [lo for lo, hi in spans if hi is None]
            if not unbounded:
                return False
            lengths = range(need, max(need, min(unbounded)))
        else:
            lengths = range(need, need + 1)
        if not all(any(lo <= n and (hi is None or n <= hi) for lo, hi in spans) for n in lengths):
            return False
    return True


def _simple_intersects(a: Lang, b: Lang) -> bool | None:
    sa, sb = _simple_lang(a), _simple_lang(b)
    if sa is None or sb is None:
        return None
    return any(_meet(x, y) for x in sa for y in sb)


def meet_all(langs: Sequence[Lang]) -> bool | None:
    """Whether the languages share a string, by prefix and length arithmetic when every one is
    a union of literal-plus-wildcards globs (or everything); None when the automaton must
    decide. The n-way form of `_simple_intersects`, for the intersections coverage asks about."""
    simple: list[list[_Simple]] = []
    for lang in langs:
        if lang.negated and not lang.globs:
            continue  # everything: no constraint
        found = _simple_lang(lang)
        if found is None:
            return None
        simple.append(found)
    combinations = 1
    for options in simple:
        combinations *= len(options)
    if combinations > 256:
        return None
    return any(_meet_n(combo) for combo in itertools.product(*simple))


def _meet_n(globs: Sequence[_Simple]) -> bool:
    # A common string is the longest literal plus free characters; every other literal must
    # be its prefix, and the total length must suit every glob (exactly for closed ones).
    if not globs:
        return True
    longest = max((g[0] for g in globs), key=len)
    if not all(longest.startswith(g[0]) for g in globs):
        return False
    low = max(len(lit) + need for lit, need, _ in globs)
    exact = {len(lit) + need for lit, need, open_ in globs if not open_}
    return not exact or (len(exact) == 1 and exact.pop() >= low)


def _meet(x: _Simple, y: _Simple) -> bool:
    short, long_ = (x, y) if len(x[0]) <= len(y[0]) else (y, x)
    if not long_[0].startswith(short[0]):
        return False
    # A common string is long_'s literal + t; |t| must suit long_ and the shorter glob, whose
    # wildcard part also spans the extra literal characters of long_.
    lo_l, hi_l = long_[1], (None if long_[2] else long_[1])
    shift = len(long_[0]) - len(short[0])
    lo_s, hi_s = short[1] - shift, (None if short[2] else short[1] - shift)
    lo = max(lo_l, lo_s, 0)
    hi = min(h for h in (hi_l, hi_s) if h is not None) if hi_l is not None or hi_s is not None else None
    return hi is None or lo <= hi


def action_matches(pattern: str, action: str) -> bool:
    """IAM action glob match; actions are case-insensitive."""
    return Lang.of([pattern], fold=True).matches(action)


def resource_matches(pattern: str, arn: str) -> bool:
    """IAM resource glob match; S3 ARNs are case-sensitive."""
    return Lang.of([pattern], fold=False).matches(arn)


# --------------------------------------------------------------------------- condition operators


@dataclass(frozen=True, slots=True)
class Operator:
    """A condition operator, lower-cased and split: ForAnyValue: / StringLike / IfExists."""

    qualifier: str
    base: str
    if_exists: bool

    @property
    def negated(self) -> bool:
        # StringNotEquals, StringNotLike, NumericNotEquals, ArnNotLike, NotIpAddress ...
        return "not" in self.base


def parse_operator(operator: str) -> Operator:
    """Split a condition operator into qualifier, base operator and IfExists."""
    qualifier, _, base = operator.lower().rpartition(":")
    if_exists = base.endswith("ifexists")
    return Operator(qualifier, base.removesuffix("ifexists"), if_exists)


def present_truth(op: Operator, actual: str, values: Sequence[str]) -> bool | None:
    """Whether a condition holds when its single-valued key is present with `actual`."""
    # With the key present, IfExists changes nothing, and ForAnyValue/ForAllValues over a
    # one-element set reduce to the plain test. Values of one key are ORed.
    if op.base == "null":
        return any(v.lower() == "false" for v in values)
    if op.base == "bool":
        hit = any(v.lower() == actual.lower() for v in values)
    elif op.base in ("stringequals", "stringnotequals"):
        hit = actual in values
    elif op.base in ("stringequalsignorecase", "stringnotequalsignorecase"):
        hit = any(v.lower() == actual.lower() for v in values)
    elif op.base in ("stringlike", "stringnotlike"):
        hit = any(Lang.of([v], fold=False).matches(actual) for v in values)
    else:
        return None  # numeric/date/ARN/IP tests of a string key: not something to rely on
    return hit != op.negated


def absent_truth(op: Operator, values: Sequence[str]) -> bool:
    """Whether a condition holds when its key is missing from the request context."""
    # "If the key ... is not present in the request context, the values do not match and the
    # condition is false. If the condition requires that the key is not matched, such as
    # StringNotLike ..., the condition is true"; ...IfExists and Null test presence instead.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/
    #   reference_policies_elements_condition_operators.html
    if op.if_exists:
        return True
    if op.base == "null":
        return any(v.lower() == "true" for v in values)
    if op.qualifier == "forallvalues":
        return True  # vacuously true for an empty set of request values
    if op.qualifier == "foranyvalue":
        return False
    return op.negated


def opens_to_everyone(op: Operator, values: Sequence[str]) -> bool:
    """True when some value of a positive test lets any caller through ("*", 0.0.0.0/0, ::/0)."""
    if op.base == "ipaddress":
        return _covers_address_space(values)
    return any("*" in v and set(v) <= {"*", "?"} for v in values)


def _covers_address_space(values: Sequence[str]) -> bool:
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for value in values:
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            continue  # AWS refuses malformed CIDRs; one that slipped through matches nothing
        if isinstance(net, ipaddress.IPv4Network):
            v4.append(net)
        else:
            v6.append(net)
    # Collapsing catches 0.0.0.0/1 + 128.0.0.0/1 as well as a plain 0.0.0.0/0 or ::/0.
    return any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(v4)) or any(
        n.prefixlen == 0 for n in ipaddress.collapse_addresses(v6)
    )
