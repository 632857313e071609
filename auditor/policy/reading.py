"""One reading of a policy that every policy control shares: what each statement can do.

A well-formed Allow grants, a well-formed Deny may take away or enforce, and a statement S3
would refuse (see `auditor.policy.document`) never counts as a Deny, never limits anything and
never satisfies a requirement; if it could be an Allow, it grants as widely as its elements
allow: a missing Action or Resource is everything, a missing or unreadable principal everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.model import PolicyDocument, Statement
from auditor.policy.document import reads_as_deny
from auditor.policy.globs import ANY, STAR, Lang, intersects

EVERYTHING = Lang((), negated=True)
# Every S3 action, including those AWS adds later: only `*`, `s3:*` or an equivalent covers it.
ALL_S3_ACTIONS = Lang.of(["s3:?*"], fold=True)


@dataclass(frozen=True, slots=True)
class Reading:
    """A statement with the action and resource languages it covers (a union of them)."""

    statement: Statement
    allows: bool  # grants: a well-formed Allow, or a malformed statement that could be one
    denies: bool  # a well-formed Deny: the only kind that may take away or enforce anything
    actions: tuple[Lang, ...]
    resources: tuple[Lang, ...]

    @property
    def label(self) -> str:
        return self.statement.label


def could_be_allow(st: Statement) -> bool:
    """A well-formed Allow, or a malformed statement whose Effect does not read as Deny."""
    if not st.malformed:
        return st.effect == "Allow"
    return not reads_as_deny(st.effect)


def read(st: Statement) -> Reading:
    """The statement's reading; see the module docstring for malformed ones."""
    return Reading(
        statement=st,
        allows=could_be_allow(st),
        denies=not st.malformed and st.effect == "Deny",
        actions=_langs(st.actions, st.not_actions, fold=True),
        resources=_langs(st.resources, st.not_resources, fold=False),
    )


def read_policy(doc: PolicyDocument | None) -> tuple[Reading, ...]:
    """Every statement's reading, in document order; () without a policy."""
    return tuple(read(st) for st in doc.statements) if doc else ()


def _langs(positive: tuple[str, ...] | None, negative: tuple[str, ...] | None, *,
           fold: bool) -> tuple[Lang, ...]:
    # A statement with both elements (malformed) covers their union; with neither, everything.
    out = []
    if positive is not None:
        out.append(Lang.of(positive, fold=fold))
    if negative is not None:
        out.append(Lang.of(negative, fold=fold, negated=True))
    return tuple(out) or (EVERYTHING,)


def bucket_targets(bucket: str) -> tuple[tuple[str, Lang], tuple[str, Lang]]:
    """The bucket's two resource languages, each with a name for messages."""
    arn = f"arn:aws:s3:::{bucket}"
    # Object keys are at least one character long, hence "?" before the "*".
    objects = Lang((tuple(f"{arn}/") + (ANY, STAR),))
    return (f"the bucket {arn}", Lang.exact(arn)), (f"all objects {arn}/*", objects)


def touches(reading: Reading, bucket: str) -> bool:
    """True when some resource of the statement is the bucket or one of its objects."""
    return any(intersects(res, target) for res in reading.resources
               for _, target in bucket_targets(bucket))


def grant_targets(reading: Reading, bucket: str) -> list[tuple[list[Lang], list[Lang]]]:
    """The (S3 actions, bucket resources) a statement covers, one pair per element part and
    bucket target, each side an intersection of languages."""
    return [([act, ALL_S3_ACTIONS], [res, target]) for act in reading.actions
            for res in reading.resources for _, target in bucket_targets(bucket)]


def s3_actions(reading: Reading) -> bool:
    """True when the statement covers some S3 action (a bucket answers no other)."""
    return any(intersects(act, ALL_S3_ACTIONS) for act in reading.actions)


def shown(written: tuple[str, ...] | None, negated: tuple[str, ...] | None, what: str) -> str:
    """An element as people read it: "s3:GetObject", "everything except s3:Delete*"."""
    if written is not None and negated is not None:
        return f"{', '.join(written)} and everything except {', '.join(negated)}"
    if written is not None:
        return ", ".join(written)
    if negated is not None:
        return f"everything except {', '.join(negated)}"
    return f"every {what} (it has no {what.capitalize()} element)"


def actions_shown(st: Statement) -> str:
    return shown(st.actions, st.not_actions, "action")


def resources_shown(st: Statement) -> str:
    return shown(st.resources, st.not_resources, "resource")


def malformed_note(st: Statement) -> str:
    """One line naming a statement S3 would refuse, why, and what s3audit makes of it."""
    problems = "; ".join(st.problems)
    if could_be_allow(st):
        effect = "it could be an Allow, so it is read as granting as widely as its elements allow"
    else:
        effect = "it reads as a Deny, so it grants nothing"
    return (f"{st.label} is malformed ({problems}), which S3 would refuse: it never counts as a "
            f"Deny, limits nothing and satisfies no requirement, and {effect}")


def document_notes(doc: PolicyDocument | None, *, skip: frozenset[str] = frozenset()
                   ) -> tuple[str, ...]:
    """Document-level problems and every malformed statement (but those labelled in `skip`,
    already named elsewhere), one line each."""
    if doc is None:
        return ()
    head = tuple(f"{p}, which S3 would refuse" for p in doc.problems)
    return head + tuple(malformed_note(st) for st in doc.statements
                        if st.malformed and st.label not in skip)
