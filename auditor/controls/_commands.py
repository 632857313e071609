"""`Request` -> the `aws` CLI command a person runs (every value shell-quoted)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from auditor.controls.registry import Request, kebab

_CLI = {"s3": "s3api"}
# Shorthand (`Status=Enabled`) is used for flat structures whose values need no escaping.
_PLAIN = re.compile(r"^[A-Za-z0-9._/:-]+$")


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shorthand(value: Mapping[str, Any]) -> str | None:
    parts = []
    for key, item in value.items():
        if isinstance(item, (dict, list, tuple)) or item is None:
            return None
        text = _scalar(item)
        if not _PLAIN.match(text):
            return None
        parts.append(f"{key}={text}")
    return ",".join(parts) or None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def quote(text: str) -> str:
    """One shell word. A value with control characters (a newline, ESC) takes ANSI-C quoting,
    $'...' (bash, zsh, ksh; POSIX since 2024), so the command stays on one line and shows
    no raw control character; everything else is shlex.quote."""
    if not _CONTROL.search(text):
        return shlex.quote(text)
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return "$'" + _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", escaped) + "'"


def argument(value: object) -> str:
    """One parameter value as the AWS CLI takes it, quoted for a POSIX shell."""
    if isinstance(value, Mapping):
        text = _shorthand(value) or json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    elif isinstance(value, (list, tuple)):
        text = json.dumps(list(value), separators=(",", ":"), ensure_ascii=False)
    else:
        text = _scalar(value)
    return quote(text)


def words(*parts: object) -> str:
    """A shell command line from words, each quoted (`shlex.quote`) as needed."""
    return " ".join(quote(str(p)) for p in parts)


def comment(text: str) -> str:
    """A remediation that is advice, not a command: one `# ...` line, whatever the values in
    it contain (a newline in a name must not end the comment and start a command)."""
    return "# " + _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def command(request: Request) -> str:
    """The request as one runnable `aws` command line."""
    words = ["aws", _CLI.get(request.service, request.service), kebab(request.operation)]
    for key, value in request.params.items():
        words += [f"--{kebab(key)}", argument(value)]
    return " ".join(words)


def commands(requests: tuple[Request, ...]) -> str | None:
    """Several requests as one command line each, run in order; None when there are none."""
    return "\n".join(command(r) for r in requests) or None
