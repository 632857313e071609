"""`notifications`: event notification targets (queues, topics, Lambda functions, EventBridge)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.cfn.values import CfnBucket, as_bool, as_list, as_map, as_str
from auditor.controls._commands import command
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import Difference, Facet, Notifications, NotificationTarget, Outcome, Severity

NOTIFICATIONS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html"
# Spec list -> (API list, API ARN key, CloudFormation list, CloudFormation ARN key).
KINDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("queues", "QueueConfigurations", "QueueArn", "QueueConfigurations", "Queue"),
    ("topics", "TopicConfigurations", "TopicArn", "TopicConfigurations", "Topic"),
    ("lambdas", "LambdaFunctionConfigurations", "LambdaFunctionArn", "LambdaConfigurations", "Function"),
)
_ARN = {"queues": "sqs", "topics": "sns", "lambdas": "lambda"}

SCHEMA = {
    "description": "Event notifications; each list stated is an exact set, a list left out is not "
    "checked.",
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "event_bridge": {"description": "Whether events also go to Amazon EventBridge.",
                         "type": "boolean"},
        **{kind: {"description": f"The exact set of {kind} that receive events.", "type": "array",
                  "items": {"$ref": "#/$defs/notification_target"}} for kind, *_ in KINDS},
    },
    "errorMessage": {"minProperties": "names no notification kind; leave the key out or state one"},
}
DEFS = {
    "notification_target": {
        "description": "One notification target: its ARN, the event types and the key filter.",
        "type": "object",
        "additionalProperties": False,
        "required": ["arn", "events"],
        "properties": {
            "arn": {"description": "ARN of the queue, topic or Lambda function.", "type": "string",
                    "pattern": "^arn:aws[a-z-]*:(sqs|sns|lambda):"},
            "events": {"description": "S3 event types, e.g. s3:ObjectCreated:*.", "type": "array",
                       "minItems": 1, "items": {"type": "string", "pattern": "^s3:[A-Za-z]+(:[A-Za-z*]+)*$"}},
            "prefix": {"description": "Key prefix filter; left out = none.", "type": "string"},
            "suffix": {"description": "Key suffix filter; left out = none.", "type": "string"},
        },
    },
}


@dataclass(frozen=True, slots=True)
class NotificationsSpec:
    event_bridge: bool | None = None
    queues: tuple[NotificationTarget, ...] | None = None  # None: not checked
    topics: tuple[NotificationTarget, ...] | None = None
    lambdas: tuple[NotificationTarget, ...] | None = None


def _target(raw: Mapping[str, Any]) -> NotificationTarget:
    return NotificationTarget(raw["arn"], tuple(sorted(set(raw["events"]))), raw.get("prefix"),
                              raw.get("suffix"))


def _build(raw: Mapping[str, Any]) -> NotificationsSpec:
    lists = {kind: tuple(_target(t) for t in raw[kind]) for kind, *_ in KINDS if kind in raw}
    return NotificationsSpec(raw.get("event_bridge"), **lists)


def _label(kind: str, target: NotificationTarget) -> str:
    where = "".join(f" {k} {v!r}" for k, v in (("prefix", target.prefix), ("suffix", target.suffix)) if v)
    return f"{kind[:-1]} {target.arn} ({', '.join(target.events)}{where})"


def notifications(want: NotificationsSpec, ref: Ref, have: Notifications) -> Outcome:
    """EventBridge delivery is on or off against the spec, or a queue, topic or Lambda target
    is missing, extra, or has other events or another key filter.

    Why it matters: notifications drive what happens to new objects (scanning, indexing,
    replication to other systems) and are a channel out of the bucket: a target nobody
    listed receives every key name written (AWS FSBP S3.11).
    Notes: each list the spec states is an exact set of (ARN, events, prefix, suffix);
    events compare as a set; a list left out is not checked.
    Example: `notifications: {event_bridge: true, queues: [{arn: "arn:aws:sqs:eu-central-1:123456789012:uploads", events: ["s3:ObjectCreated:*"], prefix: in/}]}`
    """
    diffs = []
    if want.event_bridge is not None and want.event_bridge != have.event_bridge:
        diffs.append(Difference("notifications.event_bridge", want.event_bridge, have.event_bridge,
                                f"EventBridge delivery is {'on' if have.event_bridge else 'off'}; the spec "
                                f"requires it {'on' if want.event_bridge else 'off'}"))
    for kind, *_ in KINDS:
        wanted, live = getattr(want, kind), getattr(have, kind)
        if wanted is None:
            continue
        diffs += [Difference(f"notifications.{kind}[{i}]", t, None, f"Notification to {_label(kind, t)} is missing")
                  for i, t in enumerate(wanted) if t not in live]
        diffs += [Difference(f"notifications.{kind}[live:{j}]", None, t,
                             f"Notification to {_label(kind, t)} is not in the spec")
                  for j, t in enumerate(live) if t not in wanted]
    return Outcome(actual=have, differences=tuple(diffs))


def _to_api(target: NotificationTarget, arn_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {arn_key: target.arn, "Events": list(target.events)}
    rules = [{"Name": name, "Value": value}
             for name, value in (("prefix", target.prefix), ("suffix", target.suffix)) if value]
    if rules:
        out["Filter"] = {"Key": {"FilterRules": rules}}
    return out


def _configuration(want: NotificationsSpec, have: Notifications) -> dict[str, Any]:
    # PutBucketNotificationConfiguration replaces everything: what the spec leaves open is
    # kept as it is.
    conf: dict[str, Any] = {}
    for kind, api_list, arn_key, *_ in KINDS:
        targets = getattr(want, kind)
        targets = getattr(have, kind) if targets is None else targets
        if targets:
            conf[api_list] = [_to_api(t, arn_key) for t in targets]
    if (have.event_bridge if want.event_bridge is None else want.event_bridge):
        conf["EventBridgeConfiguration"] = {}
    return conf


def _request(ref: Ref, conf: Mapping[str, Any]) -> Request:
    return Request("s3", "PutBucketNotificationConfiguration",
                   {"Bucket": ref.name, "NotificationConfiguration": conf})


def _put(ref: Ref, want: NotificationsSpec) -> tuple[Request, ...]:
    return (_request(ref, _configuration(want, Notifications())),)


def _fix(ref: Ref, want: NotificationsSpec, have: Notifications | None) -> str:
    return command(_request(ref, _configuration(want, have or Notifications())))


def _derive(ref: Ref, have: Notifications) -> Derived:
    out: dict[str, Any] = {"event_bridge": have.event_bridge}
    for kind, *_ in KINDS:
        out[kind] = to_jsonable(getattr(have, kind))
    return out, None


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    for kind, *_ in KINDS:
        first: dict[NotificationTarget, int] = {}
        for index, raw in enumerate(value.get(kind) or ()):
            path = ("notifications", kind, index)
            if f":{_ARN[kind]}:" not in raw["arn"]:
                yield at.problem((*path, "arn"), f"{raw['arn']!r} is not a {_ARN[kind]} ARN, as "
                                                 f"{kind} needs ({NOTIFICATIONS})")
            target = _target(raw)
            if target in first:
                yield at.problem(path, f"{kind} target {index} repeats target {first[target]}")
            first.setdefault(target, index)


def _cfn_target(raw: Any, path: str, arn_key: str) -> dict[str, Any]:
    conf = as_map(raw, path)
    out: dict[str, Any] = {"arn": as_str(conf.get(arn_key), f"{path}.{arn_key}"),
                           "events": [as_str(conf.get("Event"), f"{path}.Event")]}
    rules = ((conf.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    for index, rule in enumerate(as_list(rules, f"{path}.Filter.S3Key.Rules")):
        item = as_map(rule, f"{path}.Filter.S3Key.Rules[{index}]")
        name = as_str(item.get("Name"), f"{path}.Filter.S3Key.Rules[{index}].Name").lower()
        out[name] = as_str(item.get("Value"), f"{path}.Filter.S3Key.Rules[{index}].Value")
    return out


def _from_template(raw: Any, path: str) -> dict[str, Any]:
    conf = as_map(raw, path)
    out: dict[str, Any] = {}
    bridge = conf.get("EventBridgeConfiguration")
    if bridge is not None:
        enabled = as_map(bridge, f"{path}.EventBridgeConfiguration").get("EventBridgeEnabled", True)
        out["event_bridge"] = as_bool(enabled, f"{path}.EventBridgeConfiguration.EventBridgeEnabled")
    for kind, _, _, cfn_list, cfn_arn in KINDS:
        items: Sequence[Any] = as_list(conf.get(cfn_list) or [], f"{path}.{cfn_list}")
        if items:
            out[kind] = [_cfn_target(t, f"{path}.{cfn_list}[{i}]", cfn_arn) for i, t in enumerate(items)]
    return out


def _cfn(bucket: CfnBucket, entry: Mapping[str, Any]) -> object | None:
    raw = bucket.prop("NotificationConfiguration")
    if raw is None:
        return None
    return bucket.origin.attempt(_from_template, raw, "NotificationConfiguration") or None


CONTROL = Control(
    key="notifications",
    id="S3-EVT-001",
    title="Event notifications go exactly to the targets the spec lists",
    severity=Severity.LOW,
    check=notifications,
    reads=(Facet.NOTIFICATIONS,),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport(_cfn, ("NotificationConfiguration",)),
    put_requests=_put,
    fix=_fix,
    example={"event_bridge": True, "queues": [{"arn": "arn:aws:sqs:eu-central-1:123456789012:uploads",
                                                "events": ["s3:ObjectCreated:*"], "prefix": "in/"}]},
    references=(NOTIFICATIONS, "https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html"),
    why_not={"kms_refs": "names no KMS key"},
)
