"""Why reads fail, by kind: the codes that mean one cause for a whole account or run.

A read fails for a reason that is either its own (AccessDenied on one API, a throttled
bucket) or shared by every read of the account: no credentials, credentials AWS refuses,
an endpoint that does not answer, a clock AWS will not sign for, a run interrupted or out
of time. The run stops reading an account after a shared cause (every further read would
fail the same way), and the terminal says a shared cause once, not once per bucket and
control. Pure: error codes in, kinds and words out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from auditor.model import AwsFailure


class Kind(StrEnum):
    CREDENTIALS_MISSING = "credentials-missing"
    CREDENTIALS_REJECTED = "credentials-rejected"
    CLOCK = "clock"
    UNREACHABLE = "unreachable"
    INTERRUPTED = "interrupted"
    DEADLINE = "deadline"
    READ = "read"  # the read's own trouble (access denied, throttling ...)


# botocore raises these before a request is sent: nothing to sign with.
CREDENTIALS_MISSING = frozenset({
    "NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
    "NoAuthTokenError", "SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError",
    "InvalidConfigError", "ProfileNotFound",
})
# AWS refuses the credentials themselves (any API, any service): S3, STS, KMS and the
# JSON-protocol services spell it differently.
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
# https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
CREDENTIALS_REJECTED = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "InvalidSignatureException", "UnrecognizedClientException",
    "InvalidToken", "TokenRefreshRequired", "AuthFailure", "IncompleteSignature",
    "MissingAuthenticationToken", "InvalidSecurity",
})
CLOCK = frozenset({"RequestTimeTooSkewed", "RequestExpired", "SignatureExpired"})
# botocore's names for "could not talk to the endpoint at all" (after its retries).
UNREACHABLE = frozenset({
    "EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError",
    "ProxyConnectionError", "ReadTimeoutError", "SSLError", "EndpointResolutionError",
})
INTERRUPTED, DEADLINE_EXCEEDED = "Interrupted", "DeadlineExceeded"

_KINDS = ((CREDENTIALS_MISSING, Kind.CREDENTIALS_MISSING), (CREDENTIALS_REJECTED, Kind.CREDENTIALS_REJECTED),
          (CLOCK, Kind.CLOCK), (UNREACHABLE, Kind.UNREACHABLE),
          (frozenset({INTERRUPTED}), Kind.INTERRUPTED), (frozenset({DEADLINE_EXCEEDED}), Kind.DEADLINE))
# Kinds after which no further read of the same account can succeed.
ACCOUNT_WIDE = frozenset({Kind.CREDENTIALS_MISSING, Kind.CREDENTIALS_REJECTED, Kind.CLOCK,
                          Kind.UNREACHABLE})


def kind(code: str) -> Kind:
    """The kind of cause an error code stands for."""
    for codes, found in _KINDS:
        if code in codes:
            return found
    return Kind.READ


def account_wide(failure: AwsFailure | None) -> bool:
    """Every further read of the account would fail the same way."""
    return failure is not None and kind(failure.code) in ACCOUNT_WIDE


_URL = re.compile(r"(https?://[^/\s\"']+)[^\s\"']*")
_FROM_LISTING = re.compile(r"^Could not list the account's buckets[^:]*: ")


@dataclass(frozen=True, slots=True, order=True)
class Cause:
    """What identical failures share: for a shared kind its code and message, else also the API."""

    kind: Kind
    code: str
    message: str
    api: str = ""
    credentials: str = ""


def cause(failure: AwsFailure) -> Cause:
    """The cause a failure is an instance of; URLs are cut to their host (the path names a bucket)."""
    found = kind(failure.code)
    message = _URL.sub(r"\1", _FROM_LISTING.sub("", failure.message))
    if found in (Kind.INTERRUPTED, Kind.DEADLINE):
        message = ""  # our own words, which differ only in what was not read
    api = "" if found is not Kind.READ else failure.api
    return Cause(found, failure.code, message, api, failure.credentials or "")


_WHAT = {
    Kind.CREDENTIALS_MISSING: "no AWS credentials found",
    Kind.CREDENTIALS_REJECTED: "AWS rejected the credentials",
    Kind.CLOCK: "AWS refused the request time",
    Kind.UNREACHABLE: "the endpoint does not answer",
    Kind.INTERRUPTED: "interrupted before these were read",
    Kind.DEADLINE: "the --deadline passed before these were read",
}
_HINT = {
    Kind.CREDENTIALS_MISSING: "set --profile, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    Kind.CREDENTIALS_REJECTED: "refresh or replace them (e.g. aws sso login, new access keys)",
    Kind.CLOCK: "sync this machine's clock (NTP)",
    Kind.UNREACHABLE: "check --endpoint-url / AWS_ENDPOINT_URL, the network and any proxy",
}


def headline(c: Cause) -> str:
    """The cause in words, for one terminal line."""
    what = _WHAT.get(c.kind)
    if what is None:
        return f"{c.api} {c.code}: {c.message}"
    if not c.message:
        return f"{what} ({c.code})"
    if c.kind is Kind.CREDENTIALS_MISSING:
        what += f" ({c.credentials or 'default credential chain'})"
    elif c.kind is Kind.CREDENTIALS_REJECTED and c.credentials:
        what += f" of {c.credentials}"
    return f"{what}: {c.message} ({c.code})"


def hint(c: Cause) -> str | None:
    """What to do about a shared cause; None for a read's own trouble."""
    return _HINT.get(c.kind)
