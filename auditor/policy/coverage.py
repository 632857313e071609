"""Do some (action, resource) boxes cover a whole (actions x resources) target? Decided exactly.

Used both ways round: "does the TLS Deny cover every S3 action on the bucket and its objects?"
and "do the Denies take away every action this public Allow grants?". Both are the same
question, answered with the wildcard automata of `auditor.policy.globs`.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditor.policy.globs import Lang, covers, witness

Box = tuple[Lang, Lang]  # (actions, resources) of one statement
_MAX_SPLIT = 8


def escapes(target: Sequence[Lang], union: Sequence[Lang]) -> bool:
    """True when some string of the target (an intersection) is in no language of `union`."""
    if len(target) == 1:
        return not covers(target[0], union)  # takes the prefix/length fast paths
    return witness(target, union) is not None


def meets(target: Sequence[Lang], lang: Lang) -> bool:
    """True when the target (an intersection) and `lang` share a string."""
    return witness([*target, lang]) is not None


def uncovered_split(actions: Sequence[Lang], resources: Sequence[Lang],
                    boxes: Sequence[Box]) -> frozenset[int] | None:
    """Boxes S such that the target's resources escape S's resources while its actions escape
    every other box's actions: then some (action, resource) pair is in no box. None = covered.

    Coverage of A x R by A1xR1 u A2xR2 u ... fails exactly when such a split exists. Only boxes
    meeting the target take part; one that holds all of R can never be in S.
    """
    if not (meets(actions, Lang((), negated=True)) and meets(resources, Lang((), negated=True))):
        return None  # an empty target is covered by anything
    live = [i for i, (act, res) in enumerate(boxes) if meets(actions, act) and meets(resources, res)]
    partial = [i for i in live if escapes(resources, [boxes[i][1]])]
    if len(partial) > _MAX_SPLIT:  # too many to try every split: judge by the whole ones only
        whole = [boxes[i][0] for i in live if i not in partial]
        return frozenset(partial) if escapes(actions, whole) else None
    for mask in reversed(range(2 ** len(partial))):  # all partial ones first: the plainest story
        split = frozenset(i for k, i in enumerate(partial) if mask >> k & 1)
        if escapes(resources, [boxes[i][1] for i in split]) and escapes(
            actions, [boxes[i][0] for i in live if i not in split]
        ):
            return split
    return None


def touching(actions: Sequence[Lang], resources: Sequence[Lang],
             boxes: Sequence[Box]) -> list[int]:
    """The boxes that take some (action, resource) pair out of the target."""
    return [i for i, (act, res) in enumerate(boxes) if meets(actions, act) and meets(resources, res)]
