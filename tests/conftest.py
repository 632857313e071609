"""Shared fixtures: fake credentials, an in-process moto account, a moto server on 127.0.0.1."""

from __future__ import annotations

import functools
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
    """A real moto server process on 127.0.0.1, shared by the session (reset per test), behind
    the request-metrics shim (tests/metricsshim.py: moto has no request-metrics store)."""
    from tests.metricsshim import MetricsShim

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
    shim = MetricsShim(port).start()
    yield shim.url
    shim.stop()
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def server(moto_server: str) -> str:
    """The moto server, emptied for this test."""
    req = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10)
    return moto_server


@functools.cache
def _setup(endpoint: str | None) -> Any:
    # Clients for setting up state, made once per endpoint: the state lives in the server, and
    # every test runs with the same fake credentials (aws_env). Setup may write; the auditor never does.
    from auditor.collect import AwsConfig, Clients

    return Clients(AwsConfig(region=REGION, endpoint_url=endpoint, read_only=False))


def clients_for(endpoint: str | None = None) -> tuple[Any, Any, Any]:
    """(s3, kms, s3control) clients for setting up an account; setup may write, the auditor never does."""
    if endpoint is None:  # in-process moto: clients must be made inside its mock
        from auditor.collect import AwsConfig, Clients

        clients = Clients(AwsConfig(region=REGION, read_only=False))
    else:
        clients = _setup(endpoint)
    return clients.client("s3"), clients.client("kms"), clients.client("s3control")


def setup_clients(endpoint: str | None = None) -> dict[str, Any]:
    """Every client `provision_all` may need, for setting up an account at `endpoint`."""
    if endpoint is None:
        from auditor.collect import AwsConfig, Clients

        clients = Clients(AwsConfig(region=REGION, read_only=False))
    else:
        clients = _setup(endpoint)
    return {s: clients.client(s) for s in ("s3", "kms", "s3control", "cloudwatch", "iam")}


@functools.cache
def _seed_specs() -> Any:
    from auditor.spec import load_specs

    return load_specs([SPECS])


def seed_account(clients: dict[str, Any]) -> list[str]:
    """The seed's five buckets and the application's role, configured exactly as specs/ says."""
    from auditor.demo import provision_all

    return provision_all(clients, _seed_specs())


@pytest.fixture
def seeded_server(server: str) -> str:
    seed_account(setup_clients(server))
    return server


os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
