"""S3's XML answers -> the dicts botocore would return, with ElementTree and a plan per operation.

botocore's RestXMLParser walks the service model generically for every response (a method
lookup per shape and node); most of the audit's CPU per request went there and to the event
machinery around it. Here the output shape of an operation is compiled once into a plan
(element name -> member, sub-plan) and a response is one ElementTree parse plus a walk of
that plan. The result has botocore's shape exactly (same member names, scalar types,
flattened and wrapped lists, attributes such as the ACL grantee's `xsi:type`), so the
parsers in parse.py, and the recorded-answer tests, serve both read paths; tests compare the
two parsers on recorded answers.

A body that is not the operation's document (an HTML page from a proxy, a truncated answer,
another document's root element) is refused: `NotTheDocument`, never an empty result that
would read as "not configured" and pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from botocore.utils import parse_timestamp

Scalar = Callable[[str], Any]


class NotTheDocument(ValueError):
    """The body is not the document the operation answers with."""


def _text(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    return value == "true"


_SCALARS: dict[str, Scalar] = {
    "string": _text, "integer": int, "long": int, "boolean": _bool, "float": float,
    "double": float, "timestamp": parse_timestamp,
}
_SKIPPED_LOCATIONS = frozenset({"header", "headers", "statusCode", "uri", "querystring"})


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class Plan:
    """How to read one shape from an element."""

    __slots__ = ("attrs", "flat", "kind", "member", "members", "scalar")

    def __init__(self, shape: Any) -> None:
        self.kind: str = shape.type_name
        self.members: dict[str, tuple[str, Plan]] = {}
        self.flat: set[str] = set()
        self.attrs: dict[str, str] = {}  # attribute local name -> member name
        self.member: Plan | None = None
        self.scalar: Scalar = _SCALARS.get(self.kind, _text)
        if self.kind == "structure":
            for name, m in shape.members.items():
                ser = m.serialization
                if ser.get("location") in _SKIPPED_LOCATIONS:
                    continue
                if ser.get("xmlAttribute"):
                    self.attrs[str(ser["name"]).rpartition(":")[2]] = name
                    continue
                tag = ser.get("name", name)
                if m.type_name == "list" and ser.get("flattened"):
                    tag = m.member.serialization.get("name", tag)
                    self.flat.add(tag)
                self.members[tag] = (name, Plan(m))
        elif self.kind == "list":
            self.member = Plan(shape.member)
        elif self.kind == "map":
            raise NotImplementedError("no audited operation answers with an XML map")

    def read(self, node: ElementTree.Element) -> Any:
        if self.kind == "structure":
            return self._structure(node)
        if self.kind == "list":
            assert self.member is not None
            return [self.member.read(child) for child in node]
        return self.scalar(node.text or "")

    def _structure(self, node: ElementTree.Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in node:
            tag = _local(child.tag)
            found = self.members.get(tag)
            if found is None:
                continue
            name, plan = found
            if tag in self.flat:
                assert plan.member is not None
                out.setdefault(name, []).append(plan.member.read(child))
            elif name not in out:  # botocore keeps the first of repeated elements
                out[name] = plan.read(child)
        for key, value in node.attrib.items():
            attr = self.attrs.get(_local(key))
            if attr is not None:
                out[attr] = value
        return out


class Document:
    """One operation's answer: its root element (None: any) and the plan for its output."""

    def __init__(self, output_shape: Any, root: str | None, api: str = "") -> None:
        self.root = root
        self.api = api
        payload: str | None = output_shape.serialization.get("payload") if output_shape is not None else None
        self.payload = payload
        member = output_shape.members[payload] if payload else None
        self.raw_payload = member is not None and member.type_name in ("string", "blob")
        self.plan = None if self.raw_payload or output_shape is None else Plan(
            member if member is not None else output_shape)

    def parse(self, body: bytes) -> dict[str, Any]:
        if self.raw_payload:
            assert self.payload is not None
            return {self.payload: body.decode("utf-8")}
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as exc:
            raise NotTheDocument(f"not XML ({exc}): {excerpt(body)}") from None
        tag = _local(root.tag)
        if not is_document(tag, self.root, self.api):
            raise NotTheDocument(f"a <{tag}> document where <{self.root}> was expected: {excerpt(body)}")
        assert self.plan is not None
        if not self.payload and tag in self.plan.members:
            # GetBucketLocation: the root element is the output's one member
            name, plan = self.plan.members[tag]
            return {name: plan.read(root)}
        parsed = self.plan.read(root)
        return {self.payload: parsed} if self.payload else parsed


def is_document(tag: str, root: str | None, api: str) -> bool:
    """Whether a root element is this operation's document: AWS's own, or the `<...Response>`
    wrapper moto 5.2's serialiser writes (`GetBucketNotificationResponse` for
    GetBucketNotificationConfiguration); botocore reads both alike. An HTML page or another
    operation's document is neither."""
    if root is None or tag == root:
        return True
    verb = next((v for v in ("Get", "List") if api.startswith(v)), None)
    return verb is not None and tag.startswith(verb) and tag.endswith(("Response", "Result"))


def root_of(body: bytes) -> str:
    """The root element's name, or what the body is when it is not XML (for messages)."""
    try:
        return _local(ElementTree.fromstring(body).tag)
    except ElementTree.ParseError as exc:
        return f"not XML ({exc}): {excerpt(body)}"


def error_of(body: bytes) -> tuple[str | None, str]:
    """(Code, Message) of an S3 error document, (None, excerpt) when the body is not one."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None, excerpt(body)
    if _local(root.tag) == "ErrorResponse":  # the query-protocol wrapper
        root = next((c for c in root if _local(c.tag) == "Error"), root)
    fields = {_local(c.tag): c.text or "" for c in root}
    return fields.get("Code") or None, fields.get("Message", "")


def excerpt(body: bytes, limit: int = 80) -> str:
    """A short, printable quote of a body, for messages."""
    text = body[:limit].decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else " " for c in text)
    return repr(text + ("..." if len(body) > limit else ""))
