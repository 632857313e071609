"""The prefix/length fast paths of covers() and intersects() agree with the exact automaton walk."""

from __future__ import annotations

import random

import pytest

from auditor.policy.globs import Lang, _simple_covers, _simple_intersects, witness

ALPHABET = "ab/"


def _glob(rng: random.Random) -> str:
    literal = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 3)))
    tail = "".join(rng.choice("*?") for _ in range(rng.randint(0, 3)))
    return literal + tail


@pytest.mark.parametrize("seed", range(20))
def test_fast_paths_agree_with_the_automaton(seed: int) -> None:
    rng = random.Random(seed)
    verdicts: set[tuple[bool, bool]] = set()
    for _ in range(150):
        target = Lang.of([_glob(rng) for _ in range(rng.randint(1, 2))], fold=False)
        union = [Lang.of([_glob(rng)], fold=False) for _ in range(rng.randint(1, 3))]
        fast = _simple_covers(target, union)
        assert fast is not None
        assert fast == (witness([target], union) is None), (target, union)
        fast_meet = _simple_intersects(target, union[0])
        assert fast_meet == (witness([target, union[0]]) is not None), (target, union[0])
        verdicts.add((fast, bool(fast_meet)))
    # The random shapes reach both answers of both fast paths, so each comparison above was
    # tested against a "yes" and a "no" of the automaton, not only one of them.
    assert {v[0] for v in verdicts} == {True, False}
    assert {v[1] for v in verdicts} == {True, False}


def test_shapes_outside_the_fast_path_fall_back() -> None:
    middle = Lang.of(["arn:aws:s3:::b*/x"], fold=False)
    assert _simple_covers(middle, [middle]) is None
    assert _simple_intersects(Lang.of(["a"], fold=False, negated=True), middle) is None


@pytest.mark.parametrize("seed", range(10))
def test_the_n_way_meet_agrees_with_the_automaton(seed: int) -> None:
    from auditor.policy.globs import meet_all

    rng = random.Random(1000 + seed)
    everything = Lang((), negated=True)
    answers = set()
    for _ in range(150):
        langs = [Lang.of([_glob(rng) for _ in range(rng.randint(1, 2))], fold=False)
                 for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.3:
            langs.insert(rng.randrange(len(langs) + 1), everything)
        fast = meet_all(langs)
        assert fast is not None
        assert fast == (witness(langs) is not None), langs
        answers.add(fast)
    assert answers == {True, False}
    assert meet_all([Lang.of(["a*/x"], fold=False), everything]) is None
