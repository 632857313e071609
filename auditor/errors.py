"""The project's exceptions: one base, so the CLI can turn any of them into a clean message."""

from __future__ import annotations

from dataclasses import dataclass


class AuditorError(Exception):
    """Base of every error s3audit reports to the user without a traceback."""


EXCERPT = 60  # characters of a value quoted in a message
MESSAGE_LIMIT = 1000  # characters of one problem's message: a 10 MB value is not a message


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """A value as a message quotes it: repr, cut to `limit` characters with its full length."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(str(value)):,} characters)"


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """One thing wrong with a spec file, located to the line of the offending key."""

    file: str
    line: int
    column: int
    key: str  # the key path as people read it: buckets[0].lifecycle[1].id
    message: str
    level: str = "error"  # "warning", "note": reported, but the spec still loads
    path: tuple[str | int, ...] = ()  # the same key path, for programs: ("buckets", 0, ...)

    def __str__(self) -> str:
        key = self.key if len(self.key) <= 200 else f"{self.key[:199]}…"
        key = f"{key}: " if key else ""
        tag = "" if self.level == "error" else f"{self.level}: "
        message = self.message
        if len(message) > MESSAGE_LIMIT:
            message = message[: MESSAGE_LIMIT - 1] + "…"
        return f"{self.file}:{self.line}:{self.column}: {tag}{key}{message}"


class SpecError(AuditorError):
    """One or more spec files are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[SpecProblem] | tuple[SpecProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CollectError(AuditorError):
    """The audit could not start at all (no credentials, no bucket listing)."""


class InvocationError(AuditorError):
    """A bad invocation (exit 2, nothing written), found once the run could look: a --bucket
    that matches no bucket, an unknown profile, an endpoint or region that cannot be."""
