"""Everything one audit run is told, as one frozen value: the command line builds it, `run_audit`
reads it. Validation that needs no AWS happens while building it (bad values: AuditorError)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from auditor.collect import AwsConfig
from auditor.collect.accounts import Role
from auditor.model import Severity
from auditor.run.plan import Shard

DEFAULT_SPECS = (Path("specs/"),)
DEFAULT_OUT = Path("reports/")


@dataclass(frozen=True, slots=True)
class Accounts:
    """Which accounts to audit: the default credentials when nothing is named."""

    profiles: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()
    org_role: str | None = None
    session_name: str = "s3audit"


@dataclass(frozen=True, slots=True)
class Outputs:
    """Report targets by format name ("-" = stdout); `out_dir` gets the default set."""

    targets: tuple[tuple[str, str], ...] = ()
    out_dir: Path = DEFAULT_OUT
    defaults: tuple[tuple[str, str], ...] = (("json", "drift-report.json"),
                                             ("markdown", "drift-report.md"),
                                             ("html", "drift-report.html"))
    # Formats whose explicit target replaces the default set (the others add to it).
    primary: tuple[str, ...] = ("json", "markdown")
    sarif_root: Path | None = None  # SARIF URIs relative to this (default: the current directory)

    def resolved(self) -> tuple[tuple[str, str], ...]:
        """(format, target) for every report to write, in a stable order."""
        given = dict(self.targets)
        if not any(name in given for name in self.primary):
            given = {**{n: str(self.out_dir / f) for n, f in self.defaults}, **given}
        return tuple(given.items())


@dataclass(frozen=True, slots=True)
class AuditOptions:
    specs: tuple[Path, ...] = DEFAULT_SPECS
    aws: AwsConfig = field(default_factory=AwsConfig)
    accounts: Accounts = field(default_factory=Accounts)
    buckets: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    concurrency: int = 32
    deadline: float | None = None  # seconds for the whole run
    shard: Shard | None = None
    baseline: Path | None = None
    history: Path | None = None
    history_keep: int = 30
    now: datetime | None = None  # run as if at this UTC time (replays, tests)
    fail_on: Severity = Severity.LOW
    outputs: Outputs = field(default_factory=Outputs)
    quiet: bool = False
    debug: bool = False
