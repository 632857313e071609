"""tls_only and min_tls_version: does the policy deny every S3 action to everyone, on the
bucket and its objects, whenever a request is plain HTTP (or uses too old a TLS version)?

Judged by what the policy does: a Deny counts when it is well-formed, applies to every
principal ("*" or {"AWS": "*"}, no NotPrincipal) and each of its conditions surely holds for
every such request; a statement that ANDs another key does not count. Split statements,
equivalent principals and condition spellings pass.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditor.model import Condition, PolicyDocument
from auditor.policy.conditions import Context, key_name, render_condition, truth
from auditor.policy.coverage import escapes, meets, uncovered_split
from auditor.policy.globs import Lang, parse_operator
from auditor.policy.principals import describe, everyone
from auditor.policy.reading import (
    ALL_S3_ACTIONS,
    Reading,
    actions_shown,
    bucket_targets,
    document_notes,
    read_policy,
    resources_shown,
    touches,
)

SECURE_TRANSPORT = "aws:securetransport"
TLS_VERSION = "s3:tlsversion"
# TLS versions a client may negotiate with S3; s3:TlsVersion carries them as "1.2" and so on.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
# Named, in this order, when a Deny misses an action; any one is enough to show the gap.
EXAMPLE_ACTIONS = (
    "s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "s3:PutBucketPolicy",
    "s3:DeleteBucket", "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:RestoreObject",
)


@dataclass(frozen=True, slots=True)
class Requirement:
    """Which requests a Deny must catch: the request contexts, and how messages name them."""

    key: str  # the condition key the Deny is about, lower-cased
    when: str  # "aws:SecureTransport is false"
    request: str  # "a plain-HTTP request"
    contexts: tuple[tuple[str, Context], ...]  # (a name for the request, its context)


@dataclass(frozen=True, slots=True)
class TransportVerdict:
    """Whether the policy enforces the requirement, why not, and what it made of each statement."""

    requirement: str
    enforced: bool
    gaps: tuple[str, ...] = ()  # why not: one sentence each; () when enforced
    enforced_by: tuple[str, ...] = ()  # the Denies that count, by label
    notes: tuple[str, ...] = ()  # malformed statements and Denies that do not count, on a pass too

    @property
    def explanation(self) -> tuple[str, ...]:
        counted = (f"enforced by {', '.join(self.enforced_by)}",) if self.enforced else ()
        return (*self.gaps, *counted, *[n for n in self.notes if n not in self.gaps])


PLAIN_HTTP = Requirement(
    key=SECURE_TRANSPORT, when="aws:SecureTransport is false", request="a plain-HTTP request",
    # S3 sets s3:TlsVersion only on TLS connections, so it is absent from a plain-HTTP request.
    contexts=(("a plain-HTTP request", {SECURE_TRANSPORT: "false", TLS_VERSION: None}),),
)


def below(version: str) -> Requirement:
    """The requirement of min_tls_version: deny every request over a TLS version below it."""
    try:
        floor = float(version)
    except ValueError as exc:
        raise ValueError(f"{version!r} is not a TLS version such as 1.2") from exc
    low = tuple(v for v in TLS_VERSIONS if float(v) < floor)
    return Requirement(
        key=TLS_VERSION, when=f"s3:TlsVersion is below {version}",
        request=f"a request over TLS below {version}",
        contexts=tuple((f"a request over TLS {v}", {SECURE_TRANSPORT: "true", TLS_VERSION: v})
                       for v in low),
    )


def tls_only_check(doc: PolicyDocument | None, bucket: str) -> TransportVerdict:
    """tls_only: every plain-HTTP request on the bucket and its objects is denied."""
    return enforce(doc, bucket, PLAIN_HTTP)


def min_tls_check(doc: PolicyDocument | None, bucket: str, version: str) -> TransportVerdict:
    """min_tls_version: every request over TLS below `version` is denied (a Deny below a higher
    version passes too)."""
    return enforce(doc, bucket, below(version))


def enforce(doc: PolicyDocument | None, bucket: str, need: Requirement) -> TransportVerdict:
    """Whether the policy's Denies catch every request of the requirement."""
    if not need.contexts:
        return TransportVerdict(need.when, True, notes=(f"no request S3 accepts has {need.when}",))
    if doc is None or not doc.statements:
        what = "there is no bucket policy" if doc is None else "the bucket policy has no statements"
        gap = f"{what}, so nothing denies requests when {need.when}"
        return TransportVerdict(need.when, False, (gap,), notes=document_notes(doc))
    counted: list[Reading] = []
    flagged: dict[str, str] = {}
    for reading in read_policy(doc):
        problem = _problem(reading, bucket, need)
        if problem is None:
            counted.append(reading)
        elif _mentions(reading, need):
            flagged[reading.label] = f"{reading.label} {problem}"
    # A statement that speaks of the requirement is named once, with what it fails to do.
    notes = [*document_notes(doc, skip=frozenset(flagged)), *flagged.values()]
    gaps = _coverage_gaps(counted, bucket, need)
    if gaps:
        return TransportVerdict(need.when, False, tuple(dict.fromkeys((*flagged.values(), *gaps))),
                                notes=tuple(dict.fromkeys(notes)))
    return TransportVerdict(need.when, True, (), tuple(r.label for r in counted),
                            tuple(dict.fromkeys(notes)))


def _mentions(reading: Reading, need: Requirement) -> bool:
    return any(c.key in (need.key, TLS_VERSION, SECURE_TRANSPORT)
               for c in reading.statement.conditions)


def _problem(reading: Reading, bucket: str, need: Requirement) -> str | None:
    """Why this statement does not count toward the requirement, or None when it does."""
    st = reading.statement
    if st.malformed:
        return f"is malformed ({'; '.join(st.problems)}), so it does not count: S3 would refuse it"
    if st.effect != "Deny":
        return "is an Allow, not a Deny, so it enforces nothing"
    if st.not_principal is not None:
        return "uses NotPrincipal, so the principals it excludes are never denied"
    if not everyone(st.principal):
        return f"applies only to {describe(st.principal)}, not to every principal"
    for cond in st.conditions:
        for name, context in need.contexts:
            answer = truth(cond, context)
            if answer is not True:
                return _condition_problem(cond, answer, need, name)
    if not touches(reading, bucket):
        names = sorted({r.removeprefix("arn:aws:s3:::").split("/")[0] for r in st.resources or ()})
        if names:
            return f"names bucket {', '.join(names)}, not {bucket}"
        return f"does not apply to bucket {bucket}"
    return None


def _condition_problem(cond: Condition, answer: bool | None, need: Requirement,
                       request: str) -> str:
    shown = render_condition(cond)
    if cond.key == need.key:
        if answer is None:
            return f"tests {shown}, which cannot be relied on to match {request}"
        if (cond.key == SECURE_TRANSPORT and parse_operator(cond.operator).base != "null"
                and "true" in map(str.lower, cond.values)):
            return (f"denies only when {shown}, the wrong way round: a plain-HTTP request has "
                    "aws:SecureTransport false")
        return f"tests {shown}, which {request} ({need.when}) never meets"
    if answer is False:
        return f"also requires {shown}, so {request} is never denied"
    return f"also requires {shown}, which {request} need not meet"


def _coverage_gaps(counted: Sequence[Reading], bucket: str, need: Requirement) -> list[str]:
    if not counted:
        return [f"no Deny statement applies to every principal whenever {need.when}"]
    found = [(name, _target_gap(counted, name, target, need))
             for name, target in bucket_targets(bucket)]
    gaps = [(name, gap) for name, gap in found if gap is not None]
    if len(gaps) == 2 and gaps[0][1] == gaps[1][1]:
        return [gaps[0][1]]  # the same actions are missing on both: say it once
    return [gap if name in gap else f"on {name}, {gap}" for name, gap in gaps]


def _target_gap(counted: Sequence[Reading], name: str, target: Lang,
                need: Requirement) -> str | None:
    keyname = key_name(Condition("", need.key, ()))
    parts = [(r, act, res) for r in counted for act in r.actions for res in r.resources
             if meets([target], res)]
    if escapes([target], [res for _, _, res in parts]):
        covered = "; ".join(dict.fromkeys(resources_shown(r.statement) for r in counted))
        return f"the Deny on {keyname} covers {covered} but not {name}"
    split = uncovered_split([ALL_S3_ACTIONS], [target], [(act, res) for _, act, res in parts])
    if split is None:
        return None
    acting = [(r, act) for i, (r, act, _) in enumerate(parts) if i not in split]
    listed = "; ".join(dict.fromkeys(actions_shown(r.statement) for r, _ in acting)) or "no action"
    missing = next((a for a in EXAMPLE_ACTIONS if not any(act.matches(a) for _, act in acting)),
                   "an S3 action added in future")
    return f"the Deny on {keyname} covers only {listed} ({missing} is not denied)"
