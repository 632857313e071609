"""`principals` (principal scope): what an IAM role's own policies allow on S3, exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from auditor.controls._commands import command, comment
from auditor.controls.registry import Control, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.model import Difference, Facet, Outcome, Role, Scope, Severity
from auditor.policy.globs import PolicyTooComplexError
from auditor.policy.identity import Access, Grant, compare

POLICY_NAME = "s3-access"  # the inline policy remediation and `demo` write
_SHOWN = 8  # actions named in a message before "+N more"

SCHEMA = {
    "description": "Exactly what the role's inline and attached managed policies (capped by its permissions boundary) may allow on S3: each action x resource allowed beyond this list, or listed but not allowed, is drift. [] = no S3 access at all.",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["actions", "resources"],
        "properties": {
            "actions": {"description": "S3 actions (s3:GetObject; IAM wildcards allowed).", "type": "array",
                        "minItems": 1, "items": {"type": "string", "pattern": "^[sS]3:[A-Za-z*?]+$",
                                                 "errorMessage": {"pattern": "{value} is not an S3 action (s3:Name)"}}},
            "resources": {"description": "Resource ARNs (IAM wildcards allowed), e.g. arn:aws:s3:::bucket/*.",
                          "type": "array", "minItems": 1, "items": {"$ref": "#/$defs/non_empty_string"}},
        },
    },
}


def _build(raw: list[Mapping[str, Any]]) -> tuple[Grant, ...]:
    return tuple(Grant(tuple(str(a) for a in g["actions"]), tuple(str(r) for r in g["resources"])) for g in raw)


def _listed(names: list[str]) -> str:
    more = f" (+{len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def _differences(access: Access) -> list[Difference]:
    out = []
    beyond: dict[tuple[str, str], list[str]] = {}
    examples: dict[tuple[str, str], str] = {}
    for e in access.extra:
        beyond.setdefault((e.policy, e.resource), []).append(e.action)
        examples.setdefault((e.policy, e.resource), e.example)
    for (policy, resource), actions in beyond.items():
        example = examples[policy, resource]
        shown = "" if example == resource else f" (e.g. {example})"
        out.append(Difference("s3_access", None, {"policy": policy, "actions": actions, "resources": [resource]},
                              f"{policy} allows {_listed(actions)} on {resource}{shown} beyond the spec"))
    short: dict[tuple[str, str], list[str]] = {}
    for m in access.missing:
        short.setdefault((m.resource, m.why), []).append(m.action)
    for (resource, why), actions in short.items():
        out.append(Difference("s3_access", {"actions": actions, "resources": [resource]}, None,
                              f"the spec requires {_listed(actions)} on {resource}, but {why}"))
    return out


def principals(want: tuple[Grant, ...], ref: Ref, have: Role | None) -> Outcome:
    """The role's policies allow S3 access beyond the spec's allow-list, or not all of it.

    Why it matters: an application role is the everyday path to the data; one extra
    `s3:*` or a `Resource: "*"` in an attached policy undoes every bucket-side control, and no
    bucket setting shows it.
    Notes: judged by s3audit's own policy evaluator (no IAM simulator): the role's inline and
    attached managed policies (default versions) are a union of Allows, an unconditional Deny
    takes away, and a permissions boundary caps them. Every S3 action is judged with its
    resources as exact wildcard languages, so `s3:Get*` or `NotResource` are judged by what
    they cover, not by their spelling. A conditional Allow counts as allowing (it may apply);
    a conditional Deny is not counted as taking away. Service control policies, session
    policies and resource policies are not read. A role that does not exist is drift.
    Example: `principals: [{role: amply-app, s3_access: [{actions: [s3:GetObject], resources: ["arn:aws:s3:::amply-storage-prod/*"]}]}]`
    """
    if have is None:
        return Outcome(actual=None, differences=(Difference("", [_grant(g) for g in want], None,
                                                            f"role {ref.name} does not exist"),))
    named = [(f"managed policy {p.arn}" if p.arn else f"inline policy {p.name}", p.document)
             for p in have.policies]
    boundary = (f"boundary {have.boundary.arn}", have.boundary.document) if have.boundary else None
    try:
        access = compare(want, named, boundary)
    except PolicyTooComplexError as exc:
        raise ValueError(f"the role's policies are too intricate to evaluate: {exc}") from exc
    actual = [{"policy": label, "statements": len(doc.statements)} for label, doc in named]
    notes = list(access.notes)
    if any(e.conditional for e in access.extra):
        notes.append("some of the access beyond the spec is allowed only under conditions")
    return Outcome(actual=actual, differences=tuple(_differences(access)), notes=tuple(notes))


def _grant(g: Grant) -> dict[str, list[str]]:
    return {"actions": list(g.actions), "resources": list(g.resources)}


def _document(want: tuple[Grant, ...]) -> str:
    statements = [{"Effect": "Allow", "Action": list(g.actions), "Resource": list(g.resources)} for g in want]
    if not statements:  # no S3 access at all: an explicit, harmless statement keeps the document valid
        statements = [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def _role_name(ref: Ref) -> str:
    return ref.name.rsplit("/", 1)[-1]


def _put(ref: Ref, want: tuple[Grant, ...]) -> tuple[Request, ...]:
    # The seed does not say who assumes the role; an ECS task role is the demo's assumption.
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
    return (Request("iam", "CreateRole", {"RoleName": _role_name(ref), "AssumeRolePolicyDocument": json.dumps(trust)}),
            Request("iam", "PutRolePolicy", {"RoleName": _role_name(ref), "PolicyName": POLICY_NAME,
                                             "PolicyDocument": _document(want)}))


def _fix(ref: Ref, want: tuple[Grant, ...], have: Role | None) -> str | None:
    name = _role_name(ref)
    put = command(Request("iam", "PutRolePolicy", {"RoleName": name, "PolicyName": POLICY_NAME,
                                                   "PolicyDocument": _document(want)}))
    if have is None:
        return comment(f"create role {name} with its trust policy, then:") + "\n" + put
    lines = [put]
    for p in have.policies:
        if p.arn:
            lines.append(command(Request("iam", "DetachRolePolicy", {"RoleName": name, "PolicyArn": p.arn})))
        elif p.name != POLICY_NAME:
            lines.append(command(Request("iam", "DeleteRolePolicy", {"RoleName": name, "PolicyName": p.name})))
    return "\n".join(lines) + "\n# (review each removal: the other policies may grant more than S3)"


def _lint(at: Locator, raw: list[Mapping[str, Any]], entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    for i, grant in enumerate(raw):
        for j, resource in enumerate(grant.get("resources") or ()):
            text = str(resource)
            if text != "*" and not text.startswith("arn:"):
                yield at.problem(("s3_access", i, "resources", j), f"{text!r} is not an ARN (arn:aws:s3:::bucket/key) or '*'")


CONTROL = Control(
    key="principals",
    stated_as="s3_access",
    scope=Scope.PRINCIPAL,
    id="S3-IAM-001",
    title="An IAM role's policies allow exactly the S3 access the spec lists",
    severity=Severity.HIGH,
    check=principals,
    reads=(Facet.ROLE,),
    schema=SCHEMA,
    build=_build,
    lint=_lint,
    put_requests=_put,
    fix=_fix,
    example=[{"actions": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
              "resources": ["arn:aws:s3:::amply-storage-prod/*"]}],
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
    ),
    why_not={"derive": "init describes buckets; a role's access is stated by its owner",
             "cfn": "import reads bucket resources, not IAM roles",
             "kms_refs": "names no KMS key"},
)
