"""Shared fixtures: fake credentials, an in-process moto account, a moto server on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
REGION = "eu-central-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials for every test; no test can reach real AWS with real keys."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(ROOT / "tests" / "no-such-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(ROOT / "tests" / "no-such-aws-credentials"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server process on 127.0.0.1, shared by the session (reset per test)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def server(moto_server: str) -> str:
    """The moto server, emptied for this test."""
    req = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10)
    return moto_server


def clients_for(endpoint: str | None = None) -> tuple[Any, Any, Any]:
    """(s3, kms, s3control) clients for setting up an account; setup may write, the auditor never does."""
    from auditor.collect import AwsConfig, Clients

    clients = Clients(AwsConfig(region=REGION, endpoint_url=endpoint, read_only=False))
    return clients.client("s3"), clients.client("kms"), clients.client("s3control")


def seed_account(s3: Any, kms: Any) -> list[str]:
    """The seed's five buckets, configured exactly as specs/ says."""
    from auditor.demo import provision_all
    from auditor.spec import load_specs

    return provision_all({"s3": s3, "kms": kms}, load_specs([SPECS]))


@pytest.fixture
def seeded_server(server: str) -> str:
    s3, kms, _ = clients_for(server)
    seed_account(s3, kms)
    return server


os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
