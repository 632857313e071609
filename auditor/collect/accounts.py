"""Opening the accounts of a run: profiles, assumed roles, or every account of an Organization.

An account that cannot be opened (AssumeRole denied, no such profile) is reported as an
AccountFailure for that account; the other accounts are still audited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from auditor.collect.aws import AwsConfig, Clients
from auditor.collect.facets import ASSUME_ROLE, LIST_ACCOUNTS
from auditor.collect.read import failure
from auditor.errors import AuditorError
from auditor.model import AwsFailure

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/.+$")


@dataclass(frozen=True, slots=True)
class Role:
    arn: str
    external_id: str | None = None

    @property
    def account(self) -> str | None:
        match = ROLE_ARN.match(self.arn)
        return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class AccountFailure:
    account: str | None
    label: str
    error: AwsFailure


def read_roles_file(path: Path) -> list[Role]:
    """One role per line: `ARN [external-id]`; blank lines and `#` comments ignored."""
    roles = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if not ROLE_ARN.match(words[0]) or len(words) > 2:
            raise AuditorError(f"{path}:{number}: expected 'ROLE-ARN [EXTERNAL-ID]', got {line.strip()!r}")
        roles.append(Role(words[0], words[1] if len(words) == 2 else None))
    return roles


def _error(label: str, api: str, exc: Exception) -> AwsFailure:
    found = failure(exc, api)
    return AwsFailure(found.api, found.code, f"{label}: {exc}")


def assume(base: Clients, role: Role, session_name: str) -> Clients | AccountFailure:
    """Clients acting as `role`, or the failure to assume it."""
    params: dict[str, Any] = {"RoleArn": role.arn, "RoleSessionName": session_name}
    if role.external_id:
        params["ExternalId"] = role.external_id
    try:
        creds = base.client("sts").assume_role(**params)["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        return AccountFailure(role.account, role.arn, _error(role.arn, ASSUME_ROLE.api, exc))
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=base.default_region,
    )
    return Clients(base.config, session, label=f"role {role.arn}")


def organization_roles(base: Clients, role_name: str) -> list[Role] | AccountFailure:
    """The named role in every ACTIVE account of the caller's Organization."""
    try:
        pages = base.client("organizations").get_paginator("list_accounts").paginate()
        ids = sorted(a["Id"] for page in pages for a in page["Accounts"] if a.get("Status") == "ACTIVE")
    except (ClientError, BotoCoreError) as exc:
        return AccountFailure(None, "the Organization", _error("organizations", LIST_ACCOUNTS.api, exc))
    return [Role(f"arn:aws:iam::{account}:role/{role_name}") for account in ids]


def _own_account(base: Clients) -> str | None:
    try:
        return str(base.client("sts").get_caller_identity()["Account"])
    except (ClientError, BotoCoreError):
        return None


def open_accounts(
    config: AwsConfig,
    profiles: Sequence[str] = (),
    roles: Sequence[Role] = (),
    org_role: str | None = None,
    session_name: str = "s3audit",
) -> tuple[list[Clients], list[AccountFailure]]:
    """Clients for every account of the run (the default credentials when nothing is named)."""
    if not profiles and not roles and not org_role:
        return [Clients(config)], []
    opened: list[Clients] = []
    failures: list[AccountFailure] = []
    for profile in profiles:
        try:
            opened.append(Clients(replace(config, profile=profile)))
        except (BotoCoreError, ClientError) as exc:
            failures.append(AccountFailure(None, f"profile {profile}", _error(profile, "Session", exc)))
    base = Clients(config)
    wanted = list(roles)
    if org_role:
        found = organization_roles(base, org_role)
        if isinstance(found, AccountFailure):
            failures.append(found)
        else:
            own = _own_account(base)
            if any(r.account == own for r in found):
                opened.append(base)  # the caller's own account needs no role
            wanted += [r for r in found if r.account != own]
    for role in dict.fromkeys(wanted):  # a role named twice is opened once
        result = assume(base, role, session_name)
        (failures if isinstance(result, AccountFailure) else opened).append(result)  # type: ignore[arg-type]
    return opened, failures
