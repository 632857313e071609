"""`website`: static website hosting as specified, or off."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from auditor.cfn.values import Invalid, Origin, as_map, as_str, plain
from auditor.controls._commands import command
from auditor.controls.registry import CfnImport, Control, Derived, Locator, Ref, Request
from auditor.errors import SpecProblem
from auditor.jsonable import to_jsonable
from auditor.model import Difference, Facet, Outcome, RedirectAll, Severity, Website
from auditor.shapes import website_to_api

SCHEMA = {
    "description": "`false`: must not be a website. A mapping: must be a website with these settings.",
    "type": ["object", "boolean"],
    "if": {"type": "boolean"},
    "then": {
        "const": False,
        "errorMessage": {"const": "must be false or a mapping of website settings"},
    },
    "else": {"$ref": "#/$defs/website"},
    "errorMessage": {"type": "must be false or a mapping of website settings"},
}
DEFS = {
    "website": {
        "description": "Static website hosting settings; a sub-key left out is not checked.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "index_document": {
                "description": "Index document suffix, e.g. index.html.",
                "$ref": "#/$defs/non_empty_string",
            },
            "error_document": {
                "description": "Error document key.",
                "$ref": "#/$defs/non_empty_string",
            },
            "redirect_all_requests_to": {
                "description": "Redirect every request to another host.",
                "type": "object",
                "additionalProperties": False,
                "required": ["host_name"],
                "properties": {
                    "host_name": {
                        "description": "Host to redirect to.",
                        "$ref": "#/$defs/non_empty_string",
                    },
                    "protocol": {
                        "description": "Protocol of the redirect.",
                        "enum": ["http", "https"],
                    },
                },
            },
        },
    }
}


@dataclass(frozen=True, slots=True)
class WebsiteSpec:
    """Required website settings; a sub-key left out is not checked."""

    index_document: str | None = None
    error_document: str | None = None
    redirect_all_requests_to: RedirectAll | None = None


def _build(raw: Mapping[str, Any] | bool) -> WebsiteSpec | Literal[False]:
    if not isinstance(raw, Mapping):  # the schema allows only `false` here
        return False
    redirect = raw.get("redirect_all_requests_to")
    return WebsiteSpec(
        index_document=raw.get("index_document"),
        error_document=raw.get("error_document"),
        redirect_all_requests_to=(
            None if redirect is None else RedirectAll(redirect["host_name"], redirect.get("protocol"))
        ),
    )


def website(want: WebsiteSpec | Literal[False], ref: Ref, have: Website | None) -> Outcome:
    """Website hosting is on when the spec says `website: false`, off when required, or differs.

    Why it matters: the website endpoint serves objects over plain HTTP to anyone the
    bucket policy lets in; an SPA needs its index and error documents to route.
    Notes: a sub-key the spec leaves out (say, error_document) is not checked.
    Example: `website: {index_document: index.html, error_document: index.html}`
    """
    if want is False:
        if have is None:
            return Outcome(actual=False)
        return Outcome(actual=have, differences=(
            Difference("", False, have, "Bucket is configured as a website; the spec says website: false"),))
    if have is None:
        return Outcome(actual=False, differences=(
            Difference("", want, False, "Bucket is not configured as a website; the spec requires one"),))
    diffs = []
    for f in fields(WebsiteSpec):
        expected, actual = getattr(want, f.name), getattr(have, f.name)
        if expected is not None and expected != actual:
            diffs.append(Difference(f"website.{f.name}", expected, actual,
                                    f"Website {f.name} is {actual or 'not set'}; the spec requires {expected}"))
    return Outcome(actual=have, differences=tuple(diffs))


def _put(ref: Ref, want: WebsiteSpec | Literal[False]) -> tuple[Request, ...]:
    if want is False:
        return (Request("s3", "DeleteBucketWebsite", {"Bucket": ref.name}),)
    conf = website_to_api(want.index_document, want.error_document, want.redirect_all_requests_to)
    return (Request("s3", "PutBucketWebsite", {"Bucket": ref.name, "WebsiteConfiguration": conf}),)


def _fix(ref: Ref, want: WebsiteSpec | Literal[False], have: Website | None) -> str | None:
    if want is False or want.index_document or want.redirect_all_requests_to or have is None:
        return None
    # The spec leaves the index document open: keep the live one rather than impose a default.
    conf = website_to_api(have.index_document, want.error_document, None)
    return command(Request("s3", "PutBucketWebsite", {"Bucket": ref.name, "WebsiteConfiguration": conf}))


def _derive(ref: Ref, have: Website | None) -> Derived:
    if have is None:
        return False, None
    spec = WebsiteSpec(have.index_document, have.error_document, have.redirect_all_requests_to)
    note = None
    if have.routing_rules:
        note = (f"website: {have.routing_rules} routing rule(s) are not part of the spec "
                "format and are not checked")
    return to_jsonable(spec), note


def _lint(at: Locator, value: Any, entry: Mapping[str, Any]) -> Iterator[SpecProblem]:
    if not isinstance(value, Mapping) or "redirect_all_requests_to" not in value:
        return
    for key in ("index_document", "error_document"):
        if key in value:
            yield at.problem(("website", key),
                             f"{key} cannot be combined with redirect_all_requests_to: "
                             "a redirect-all website serves no documents")


def _redirect(raw: Any, path: str) -> dict[str, str]:
    conf = plain(as_map(raw, path), path)
    out = {"host_name": as_str(conf.get("HostName"), f"{path}.HostName")}
    if conf.get("Protocol") is not None:
        out["protocol"] = as_str(conf["Protocol"], f"{path}.Protocol")
    return out


def _from_template(raw: Any, path: str, origin: Origin) -> dict[str, Any]:
    conf = as_map(raw, path)
    out: dict[str, Any] = {}
    # CloudFormation writes documents as strings, the S3 API as {Suffix} / {Key}.
    for cfn_key, api_key, spec_key in (("IndexDocument", "Suffix", "index_document"),
                                       ("ErrorDocument", "Key", "error_document")):
        value = conf.get(cfn_key)
        if isinstance(value, Mapping):
            value = value.get(api_key)
        if value is not None:
            found = origin.attempt(as_str, value, f"{path}.{cfn_key}")
            if found is not None:
                out[spec_key] = found
    if conf.get("RedirectAllRequestsTo") is not None:
        redirect = origin.attempt(_redirect, conf["RedirectAllRequestsTo"],
                                  f"{path}.RedirectAllRequestsTo")
        if redirect is not None:
            out["redirect_all_requests_to"] = redirect
    if conf.get("RoutingRules"):
        origin.skip(Invalid(f"{path}.RoutingRules", "routing rules are not part of the spec format"))
    return out  # even `{}` says something true: the bucket must be a website


CONTROL = Control(
    key="website",
    id="S3-WEB-001",
    title="Static website hosting is configured as the spec says, or off",
    severity=Severity.MEDIUM,
    check=website,
    reads=(Facet.WEBSITE,),
    schema=SCHEMA,
    defs=DEFS,
    build=_build,
    lint=_lint,
    derive=_derive,
    cfn=CfnImport.prop("WebsiteConfiguration", _from_template),
    put_requests=_put,
    fix=_fix,
    example={"index_document": "index.html", "error_document": "index.html"},
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteHosting.html",),
    why_not={"kms_refs": "names no KMS key"},
)
